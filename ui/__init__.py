"""Streamlit glue shared by the pages: cached resources, session state, sidebar.

Everything that computes lives in ``core``; this package only wires core to
``st.session_state``, caches and widgets. Page routing (every run goes through ``app.py``) is
handled in one place, ``ui/entry.py``.
"""
