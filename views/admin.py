"""The admin page (role admin): tokens and requests per person per day with charts, the quotas in force,
who is signed in (with "sign out everywhere"), the sign-in throttle, and every share link with revoke.

A straight script. What must stay true: only an admin sees anything here; the check is made on the page
itself, not only by leaving the page out of the navigation, so reaching the address directly shows
nothing to anyone else; in `none` mode (one local user) it is neither listed nor shown. The token columns
add up: prompt + answer + thinking (+ other, when a provider counts tokens in none of the parts) = tokens.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from components import auth, resources, share, sign_in_admin
from storage import sharing, usage
from storage.models import User, utcnow
from turns import quota

config = resources.settings()
make_session = resources.sessions()
who = auth.current_user(config)
if config.auth_mode == "none":  # one local user: there is no one to administer (nor a navigation entry)
    st.error(
        "The admin page is for a hosted demo (PRISM_AUTH_MODE password or oidc).", icon=":material/block:"
    )
    st.stop()
if who is None or not who.is_admin:
    st.error("This page is for admins.", icon=":material/block:")
    st.stop()

st.title("Admin", anchor=False)

# -- usage ------------------------------------------------------------------------------------------------
st.subheader("Usage", anchor=False)
# A radio, not a segmented control: one period is always chosen (a segmented control lets the chosen
# one be clicked off), its dot keeps contrast in the dark theme (the segmented control's accent-coloured
# words on the dark background did not), and the choice lives in the URL (?period=30), so a reload or a
# bookmark keeps it.
days = st.radio(
    "Period",
    [7, 30, 90],
    format_func=lambda d: f"{d:d} days",
    horizontal=True,
    key="period",
    bind="query-params",
)
since = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
with make_session() as session:
    admin = session.get(User, who.user_id)
    rows = usage.usage_per_user_day(session, admin, since=since)
    links = sharing.list_all_share_links(session, admin)
    owners = {u.id: u.display_name or u.identity for u in session.query(User).all()}
    session.expunge_all()

if not rows:
    st.caption("No requests in this period.")
else:
    table = pd.DataFrame(
        [
            {
                "day": r.day.isoformat(),
                "person": r.display_name or r.identity,
                "requests": r.requests,
                "prompt tokens": r.prompt_tokens,
                "answer tokens": r.completion_tokens,
                "thinking tokens": r.thinking_tokens,
                "other tokens": r.other_tokens,
                "tokens": r.tokens,
            }
            for r in rows
        ]
    )
    if not table[
        "other tokens"
    ].any():  # tokens a provider counted in no part: shown only when there are some
        table = table.drop(columns="other tokens")
    left, right = st.columns(2)
    with left:
        st.markdown("**Tokens per day**")
        st.bar_chart(table, x="day", y="tokens", color="person", height=260)
    with right:
        st.markdown("**Requests per day**")
        st.bar_chart(table, x="day", y="requests", color="person", height=260)
    st.dataframe(table, hide_index=True, width="stretch", key="admin.usage")

# -- quotas -----------------------------------------------------------------------------------------------
st.subheader("Quotas in force", anchor=False)
limits = quota.Limits.from_settings(config)
st.table(pd.DataFrame(limits.describe(), columns=["Limit", "Value"]).set_index("Limit"))
st.caption(
    "Set with PRISM_REQUESTS_PER_MINUTE, PRISM_TOKENS_PER_DAY, PRISM_GLOBAL_TOKENS_PER_DAY and, for guests, "
    "PRISM_GUEST_MESSAGES and PRISM_GUEST_TOKENS (or [quotas] and [guest] in secrets). Days are UTC days."
)

# -- sign-in ---------------------------------------------------------------------------------------------
sign_in_admin.active_sessions(make_session)
sign_in_admin.throttle(make_session, config)

# -- share links ------------------------------------------------------------------------------------------
st.subheader("All share links", anchor=False)
share.links_list(make_session, who.user_id, links, owners=owners, show_address=False)
