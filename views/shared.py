"""The shared page: a read-only snapshot opened by its link (`?token=...`), or, without a token, the
signed-in person's "Shared links" with revoke.

A straight script. What must stay true: a revoked, expired or unknown token shows the same plain
sentence and nothing else; without sign-in a snapshot opens only when the operator allows public links
(app.py lets such a visitor through to this page alone, and the check is repeated here so the page is
safe however it is reached).
"""

from __future__ import annotations

import streamlit as st

from components import auth, evaluation, rendering, resources, share, styles
from storage import sharing
from storage.models import User

config = resources.settings()
make_session = resources.sessions()
who = auth.current_user(config)
token = str(st.query_params.get("token") or "")

if token:
    if who is None and not config.public_links:
        st.info("Sign in to open this shared link.", icon=":material/lock:")
        st.stop()
    with make_session() as session:
        link = sharing.open_share_link(session, token)
        found = (link.kind, link.title, dict(link.snapshot or {}), link.created_at) if link else None
    if found is None:
        st.error("This link is no longer available.", icon=":material/link_off:")
        st.stop()
    kind, title, snapshot, created_at = found
    st.title(rendering.label(title) if title else "Shared", anchor=False)
    st.caption(f"A read-only copy, shared {created_at:%Y-%m-%d %H:%M} UTC.")
    if kind == "compare":
        targets = resources.targets(config)

        def prices_for(column):
            """A column's price table, as on the compare page: its endpoint's (the offline model is free)."""
            target = next((t for t in targets if t.endpoint.name == column.get("endpoint")), None)
            if target is None:
                return config.prices.get(column.get("model") or config.model)
            return resources.prices_for(target, column.get("model"), config)

        styles.compare_page()
        share.show_compare(snapshot, prices_for)
    elif kind == "evaluation":
        evaluation.show_shared(snapshot)
    else:
        share.show_conversation(snapshot)
    st.stop()

if who is None:
    st.stop()  # the gate in app.py shows the sign-in form
st.title("Shared links", anchor=False)
st.caption("Read-only copies you have shared. Revoking a link makes it show nothing, at once.")
with make_session() as session:
    links = sharing.list_share_links(session, session.get(User, who.user_id))
    session.expunge_all()
share.links_list(make_session, who.user_id, links)
