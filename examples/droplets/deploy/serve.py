"""Serves the task's files on a free local port (written to server.port)."""

import http.server
import socketserver

server = socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
with open("server.port", "w") as fh:
    fh.write(str(server.server_address[1]))
server.serve_forever()
