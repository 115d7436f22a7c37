"""Opens COUNT connections to 127.0.0.1:PORT that never read (a 4 KiB receive buffer each, so the
server's bytes pile up on its side), prints how many connected, and holds them until stdin closes."""
import resource
import socket
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < count + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
held = []
for _ in range(count):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    held.append(s)
print(len(held), flush=True)
sys.stdin.read()
