"""Room view (teacher): the training queue, who is training, progress, server CPU and memory (and the Ray
cluster's nodes and CPUs in use when jobs run there), stop a job.

Listed only when ``RAGFT_TEACHER_PASSCODE`` is set, and shows nothing until the passcode is typed.
"""

import pandas as pd
import streamlit as st

from core.runtime import jobs
from core.room import passcode_gate, room_snapshot, teacher_passcode
from ui.room_sessions import failed_attempts_section, sessions_section
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

ss = st.session_state
st.title("🧑‍🏫 Room view")
expected = teacher_passcode()
if not expected:
    st.info("The room view is switched off. Start the server with `RAGFT_TEACHER_PASSCODE=…` to use it.")
    st.stop()
if not ss.get("room_ok"):
    gate = passcode_gate()
    ip = st.context.ip_address
    client = ip if isinstance(ip, str) and ip else str(ss.get("browser_key") or "unknown")  # per computer, not tab
    with st.form("room_login"):  # one submission = one try (a rerun for another reason is not a new try)
        given = st.text_input("Teacher passcode", type="password", key="room_passcode")
        submitted = st.form_submit_button("Open the room view")
    if submitted and given:
        ok, wait = gate.attempt(client, given, expected)
        if ok:
            ss["room_ok"] = True
            st.rerun()
        if wait > 0:
            st.error(f"Too many wrong passcodes from this computer: wait {wait:.0f} s before the next try "
                     "(each further wrong try doubles the wait).")
        else:
            st.error("That passcode is not right.")
    st.stop()


def _stop(job_id: str) -> None:
    jobs.stop(job_id)
    ss["room_stopped"] = job_id


@st.fragment(run_every=3)
def room() -> None:
    snap = room_snapshot()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Training now", len(snap.running))
    c2.metric("Waiting in the queue", len(snap.queued))
    c3.metric(f"CPU ({snap.cpu_count} cores)", f"{snap.cpu_percent:.0f} %")
    c4.metric("Memory", f"{snap.memory_used_gb:.1f} / {snap.memory_total_gb:.1f} GB",
              help=f"This server process: {snap.process_memory_gb:.2f} GB")
    if snap.cluster is not None:
        k1, k2, k3 = st.columns([1, 1, 2])
        k1.metric("Ray nodes", snap.cluster.nodes, help=f"Cluster at {snap.cluster.address}")
        k2.metric("Cluster CPUs in use", f"{snap.cluster.cpus_in_use:g} / {snap.cluster.cpus_total:g}")
        k3.caption(f"Jobs run on the Ray cluster at `{snap.cluster.address}` ({snap.cluster.memory_total_gb:g} GB "
                   "for jobs). A waiting job is pending until a worker has a free CPU and the memory it asks for.")
    elif snap.notice:
        st.warning(snap.notice)
    if not snap.jobs:
        st.caption("No training runs since the server started.")
        return
    rows = [{"learner": j.learner, "run": j.label, "state": j.state, "queue position": j.position,
             "step": j.step, "of": j.total_steps, "loss": j.loss, "seconds": j.seconds} for j in snap.jobs]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for j in snap.running + snap.queued:
        progress = f"step {j.step}" + (f" of {j.total_steps}" if j.total_steps else "") if j.step else "waiting"
        st.button(f"⏹ Stop {j.learner}'s run {j.label} ({progress})", key=f"room_stop_{j.id}",
                  on_click=_stop, args=(j.id,))
    if ss.get("room_stopped"):
        st.caption("Stop requested: a running job stops after its current step.")


st.caption("Refreshes every 3 seconds. Learners appear as short tags, never as the ids that reopen their sessions.")
room()
sessions_section()
failed_attempts_section()
