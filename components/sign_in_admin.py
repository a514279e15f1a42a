"""The admin page's sign-in sections: who is signed in (with "sign out everywhere" per person) and what
the sign-in throttle is doing (its ceiling, and every name and address it is slowing right now).

What must stay true: revoking is immediate on every app server (the sessions live in the database and
every page run checks them, components/auth.py), and nothing here shows a session's token.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

import sign_in
from components import rendering
from settings import Settings
from storage import accounts
from storage.models import utcnow


def _sign_out_everywhere(make_session: sessionmaker[Session], user_id: int, name: str) -> None:
    with make_session() as session:
        count = accounts.revoke_all(session, user_id)
        session.commit()
    st.toast(rendering.trusted(f"Signed {rendering.label(name)} out of {count} session(s)."))


def active_sessions(make_session: sessionmaker[Session]) -> None:
    """Everyone signed in, with a button that signs a person out on every browser and server."""
    st.subheader("Signed in now", anchor=False)
    with make_session() as session:
        people = accounts.active_sessions(session)
    if not people:
        st.caption("Nobody holds an open sign-in session (OIDC sign-ins are kept by the identity provider).")
        return
    for person in people:
        name = person.display_name or person.handle
        left, right = st.columns([4, 1], vertical_alignment="center")
        where = f" · from {rendering.label(', '.join(person.addresses))}" if person.addresses else ""
        count = rendering.trusted(f"{person.sessions:d} session" + ("s" if person.sessions != 1 else ""))
        left.markdown(
            f"**{rendering.label(name)}** · {rendering.code(person.handle)} · {rendering.trusted(count)} · "
            f"last seen {person.last_seen_at:%Y-%m-%d %H:%M} UTC{rendering.trusted(where)}"
        )
        right.button(
            "Sign out everywhere",
            key=f"admin.revoke.{person.user_id}",
            icon=":material/logout:",
            on_click=_sign_out_everywhere,
            args=(make_session, person.user_id, name),
        )


def throttle(make_session: sessionmaker[Session], config: Settings) -> None:
    """The throttle's rule, its ceiling, and who it is slowing."""
    st.subheader("Sign-in throttle", anchor=False)
    st.caption(
        rendering.trusted(
            f"Each name and client address gets {sign_in.FREE_FAILURES} wrong passwords, then waits 1, 2, 4, "
            f"... seconds before the next try, never more than {config.sign_in_max_delay:,} seconds (the "
            "ceiling, PRISM_SIGN_IN_MAX_DELAY). Other addresses are never slowed; failures older than a day "
            "are not counted."
        )
    )
    now = utcnow()
    with make_session() as session:
        rows = accounts.slowed(session, since=now - sign_in.FAILURE_WINDOW, at_least=sign_in.FREE_FAILURES)
    if not rows:
        st.caption("No name and address is being slowed.")
        return
    table = pd.DataFrame(
        [
            {
                "name": r.name,
                "address": r.address,
                "wrong passwords (24 h)": r.failures,
                "waits now (s)": round(
                    sign_in.throttle_wait(r.failures, r.last_at, now, config.sign_in_max_delay)
                ),
                "last at (UTC)": f"{r.last_at:%Y-%m-%d %H:%M:%S}",
            }
            for r in rows
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="admin.throttle")
