"""HTTP routes the app serves beside Streamlit's own: the recording stream, sign-in and
sign-out, and the keepalive the player posts while a recording plays."""
