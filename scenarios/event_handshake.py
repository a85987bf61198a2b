"""A handshake with two ``Event`` objects: "the request is ready", then "the answer is ready".

The client writes its request and sets ``request_ready``; the server waits for that
event, reads the request, writes its answer and sets ``answer_ready``; the client waits
for the answer and reads it. No lock is needed: ``Event.set()`` happens before the
``wait()`` it ends, so everything the setter wrote is visible to the waiter, and the
race detector finds no race on ``request`` or ``answer``. Whichever thread starts
first, the client always reads the server's answer.

Without the events, the same reads and writes race: the server may read the request
before it is written and the client the answer before it exists.
"""

from explorer import Event, Expect, Scenario, read, set_event, wait, write


def client():
    yield write("request", "ping")
    yield set_event("request_ready")
    yield wait("answer_ready")
    return (yield read("answer"))


def server():
    yield wait("request_ready")
    request = yield read("request")
    yield write("answer", request.replace("i", "o"))
    yield set_event("answer_ready")


def client_without_events():
    yield write("request", "ping")
    return (yield read("answer"))


def server_without_events():
    request = yield read("request")
    yield write("answer", request.replace("i", "o"))


event_handshake = Scenario(
    "event handshake",
    variables={"request": "", "answer": ""},
    objects={"request_ready": Event(), "answer_ready": Event()},
    threads={"client": client, "server": server},
    expect=Expect(outcomes=[{"request": "ping", "answer": "pong"}], findings=set(), deadlock=False),
)

handshake_without_events = Scenario(
    "handshake without events",
    variables={"request": "", "answer": ""},
    threads={"client": client_without_events, "server": server_without_events},
    expect=Expect(outcomes=[{"request": "ping", "answer": "pong"}, {"request": "ping", "answer": ""}],
                  findings={"race", "nonserializable"}, deadlock=False),
)
