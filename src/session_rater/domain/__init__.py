"""The pure core: rubric model, capacities, access rules, comparisons, agreement, bias,
independence, sampling and coverage. Imports only the standard library, numpy, pandas, scipy
and the exception tree; never streamlit, sqlalchemy or yaml."""
