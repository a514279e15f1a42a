"""The peer every browser figure is measured against: the smallest Streamlit chat over the same model.

st.chat_input, the history replayed from session state, st.write_stream over one kept-alive httpx
client to the model named by PEER_API_BASE_URL, and one toggle (the interaction a rerun is timed on).
"""

import json
import os

import httpx
import streamlit as st


@st.cache_resource
def client() -> httpx.Client:
    return httpx.Client(base_url=os.environ["PEER_API_BASE_URL"], timeout=60)


def stream(messages):
    body = {"model": "gemini-2.5-flash", "messages": messages, "stream": True}
    with client().stream("POST", "chat/completions", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                for choice in json.loads(line[6:]).get("choices") or []:
                    yield (choice.get("delta") or {}).get("content") or ""


st.toggle("Details")
messages = st.session_state.setdefault("messages", [])
for message in messages:
    with st.chat_message(message["role"]):
        st.markdown(message["content"])
if prompt := st.chat_input("Message"):
    messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        messages.append({"role": "assistant", "content": st.write_stream(stream(messages[:]))})
