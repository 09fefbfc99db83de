"""The pure core: rubric model, capacities, comparisons. Imports only the standard library,
numpy and pandas; never streamlit, sqlalchemy or yaml."""
