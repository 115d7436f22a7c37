"""Accepts one client, reads a line, then resets the connection (SO_LINGER 0 → RST). Prints its port first."""
import socket
import struct

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
server.settimeout(20)
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
conn.settimeout(20)
conn.sendall(b"about to reset\n")
conn.recv(100)
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()
