"""Streamlit building blocks the pages share: message view, metrics line, errors, conversation list."""
