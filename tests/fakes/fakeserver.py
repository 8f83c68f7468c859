# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fakeserver.py - runs a fake's request handler on 127.0.0.1 on a
# free port in a background thread.
import threading
from http.server import ThreadingHTTPServer


class Server:
    def __init__(self, handler_cls, state):
        handler = type(handler_cls.__name__, (handler_cls,), {"state": state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = state
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
