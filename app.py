"""Prism's entry point: page config, settings, the sign-in gate and the navigation. Nothing else.

Pages live in pages/ and are straight scripts; everything they share is in components/.
"""

import streamlit as st

from components import auth, resources

st.set_page_config(page_title="Prism", page_icon=":material/diamond:", layout="wide")

try:
    config = resources.settings()
except ValueError as problem:  # a misconfigured deployment gets words, not a traceback
    st.error(f"Prism is not configured correctly: {problem}")
    st.stop()

# The gate: nobody reaches a page before signing in (components/auth.py).
who = auth.current_user(config)

pages = [
    st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
]
page = st.navigation(pages, position="sidebar" if who else "hidden")
if who is None:
    auth.sign_in_page(config)
    st.stop()
auth.account_sidebar(config, who)
page.run()
