"""Prism's entry point: page config, settings, the sign-in gate and the navigation. Nothing else.

Pages live in views/ (not pages/: Streamlit would also run a pages/ folder as its older automatic page
list, and a direct link could then skip this gate) and are straight scripts; everything they share is in
components/.
"""

import streamlit as st

from components import auth, incidents, resources

# An emoji icon: Streamlit draws it as a data: image; a ":material/..." page icon is fetched from Google.
st.set_page_config(page_title="Prism", page_icon="💎", layout="wide")

try:
    config = resources.settings()
except ValueError as problem:  # a misconfigured deployment gets words, not a traceback
    st.error(f"Prism is not configured correctly: {problem}")
    st.stop()

# The gate: nobody reaches a page before signing in (components/auth.py).
who = auth.current_user(config)

pages = [
    st.Page("views/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("views/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
    st.Page("views/presets.py", title="Presets", icon=":material/bookmarks:"),
    st.Page("views/shared.py", title="Shared links", icon=":material/link:", url_path="shared"),
]
if who is not None and who.is_admin and config.auth_mode != "none":  # none: one person, nothing to administer
    pages.append(st.Page("views/admin.py", title="Admin", icon=":material/admin_panel_settings:"))
page = st.navigation(pages, position="sidebar" if who else "hidden")
# A shared link opens without sign-in only if the operator allows public links (views/shared.py).
public_link = page.url_path == "shared" and config.public_links and bool(st.query_params.get("token"))
if who is None and not public_link:
    auth.sign_in_page(config)
    st.stop()
if who is not None:
    auth.account_sidebar(config, who)
# The error boundary: whatever a page fails with, the person sees a plain sentence and an incident id,
# never a traceback (components/incidents.py). st.stop()/st.rerun() are BaseException and pass through.
try:
    page.run()
except Exception as exc:
    incidents.report(exc)
