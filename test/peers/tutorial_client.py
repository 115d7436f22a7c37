"""The classic tutorial clients: blocking sockets.

usage: tutorial_client.py PORT send LINE...   sends the lines, half-closes, prints all it gets until EOF
       tutorial_client.py PORT chat LINE...   two threads: one prints what arrives, the other sends
                                               a line every 100 ms; prints until EOF
"""
import socket
import sys
import threading
import time

port, mode, lines = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
sock = socket.create_connection(("127.0.0.1", port), timeout=20)


def receive():
    while True:
        data = sock.recv(4096)
        if not data:
            break
        sys.stdout.write(data.decode("utf-8", "replace"))
        sys.stdout.flush()


if mode == "send":
    for line in lines:
        sock.sendall((line + "\n").encode())
    sock.shutdown(socket.SHUT_WR)
    receive()
else:
    reader = threading.Thread(target=receive)
    reader.start()
    for line in lines:
        time.sleep(0.1)
        sock.sendall((line + "\n").encode())
    time.sleep(0.3)
    sock.shutdown(socket.SHUT_WR)
    reader.join(20)
sock.close()
