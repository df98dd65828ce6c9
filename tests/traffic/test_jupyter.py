"""send() in a real Jupyter kernel: inside its running event loop, with the live view."""
from __future__ import annotations

import os

import nbformat
from nbclient import NotebookClient

CELL = '''
import asyncio, http.server, threading
assert asyncio.get_event_loop().is_running()  # the kernel's loop: asyncio.run() would refuse here

class Versioned(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("X-MyLearning-Version", "3.0.0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Versioned)
threading.Thread(target=server.serve_forever, daemon=True).start()
from mylearning import traffic
summary = traffic.send(None, f"http://127.0.0.1:{server.server_address[1]}/", rate=10, duration=1.5, live=True)
server.shutdown()
server.server_close()
print(summary.by_version, [t.name for t in threading.enumerate() if t.name == "mylearning-traffic"])
'''


def test_in_a_kernel_the_run_shows_live_and_ends_with_its_numbers():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute(env=dict(os.environ))
    outputs = nb.cells[0].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "{'3.0.0': 15} []" in printed
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    texts = [w["state"].get("value", "") for w in state.values() if w["model_name"] == "HTMLModel"]
    assert any("15 finished" in str(text) for text in texts)  # the view ends showing the summary
