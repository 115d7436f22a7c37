"""The classic tutorial servers, as a learner writes them: blocking sockets, one client.

usage: tutorial_server.py echo|print   (prints PORT on the first line, then serves one client)
"""
import socket
import sys

mode = sys.argv[1]
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(1)
server.settimeout(20)
print(server.getsockname()[1], flush=True)
conn, addr = server.accept()
conn.settimeout(20)
with conn:
    while True:
        data = conn.recv(1024)
        if not data:
            break
        if mode == "echo":
            conn.sendall(data)
        else:
            sys.stdout.write(data.decode("utf-8", "replace"))
            sys.stdout.flush()
server.close()
