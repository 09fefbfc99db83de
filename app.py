"""Session Rater. Start it with ``streamlit run app.py`` (or ``session-rater serve``).

Streamlit reads this file in two roles:

* the server imports it and finds ``app = st.App(...)``, which adds the app's own route that
  streams recordings from disk behind signed URLs (never through ``st.video(path)``), and
  starts reading the reports' snapshot of the scores, and their default figures, in the background;
* every browser session runs it as the script, which asks who is signed in (showing the
  sign-in screen if nobody is) and routes to the pages their roles use, with st.navigation.
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if __name__ == "__mp_main__":
    # A worker process of usecases/apart.py: multiprocessing's spawn imports the main script again
    # under this name, and while a page runs Streamlit makes this file the main script. Nothing of
    # the server (routes, the warm-up, the database) belongs in a worker.
    pass
elif get_script_run_ctx(suppress_warning=True) is None:
    from session_rater.ui.analysis_data import warm_default_figures
    from session_rater.usecases.area_report import warm_area_report
    from session_rater.ui.auth import organisation_configured
    from session_rater.usecases.process import shared_services
    from session_rater.usecases.score_snapshot import warm_in_background
    from session_rater.web.routes import routes

    app = st.App(__file__, routes=routes(organisation_configured))
    # The reports' scores and default figures computed as the process starts, not by their first visitor:
    warm_in_background(shared_services, then=lambda svc: (warm_default_figures(svc), warm_area_report(svc)))
else:
    from session_rater.ui.nav import ACCESSIBLE_STYLE, menu
    from session_rater.ui.state import signed_in

    st.set_page_config(page_title="Session Rater", page_icon=":material/video_library:", layout="wide")
    st.html(ACCESSIBLE_STYLE)  # contrast Streamlit's own theme does not reach (WCAG 1.4.3)
    me = signed_in()  # or the sign-in screen, and the script stops
    st.navigation(menu(me), expanded=True).run()
