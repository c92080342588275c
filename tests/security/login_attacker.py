"""Sixty machines logging in to the wallet page at once, over and over: a process of its
own, so the attackers' CPU is not the host's (the host under test runs in the test's
process). Run as ``python login_attacker.py URL COUNT``; it reads commands, one a line:

- ``go``: attack (answers ``going``); each attacker starts within ``SPREAD`` seconds;
- ``pause``: stop sending (answers ``paused`` once no request is in flight);
- end of input: stop, and print one JSON line, every answer as
  ``[status, body, Retry-After]``.

Each attacker connects from an address of its own in 127.0.0.0/8 and tries a new
account number each time (so no account's throttle stops it), with a wrong PIN; when
told to come back later (``Retry-After``), it does, then.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import threading
from typing import Any

import httpx

#: Seconds over which the attackers start, at each ``go``.
SPREAD = 1.0


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    stop, attacking, quiet = threading.Event(), threading.Event(), threading.Condition()
    answers: list[tuple[int, Any, str | None]] = []
    in_flight = 0

    def send(http: httpx.Client) -> str | None:
        nonlocal in_flight
        with quiet:  # counted under the lock a pause clears ``attacking`` under
            if not attacking.is_set():
                return None
            in_flight += 1
        try:
            account = "9" + str(secrets.randbelow(10**9)).zfill(9)
            answer = http.post("/wallet/v1/session", json={"account": account, "pin": "000000"})
            retry = answer.headers.get("retry-after")
            answers.append((answer.status_code, answer.json(), retry))
            return retry
        except httpx.TransportError as exc:
            answers.append((0, repr(exc), None))
            return None
        finally:
            with quiet:
                in_flight -= 1
                quiet.notify_all()

    def attack(n: int) -> None:
        address = f"127.{200 + n // 250}.{n % 250 + 1}.{secrets.randbelow(250) + 1}"
        transport = httpx.HTTPTransport(local_address=address)
        # A new connection for every try: a kept-alive one that the host closes as idle
        # while the attacker waits out a Retry-After races the next request (a transport
        # error that says nothing about the host's answers).
        headers = {"Connection": "close"}
        with httpx.Client(
            base_url=url, timeout=120, trust_env=False, transport=transport, headers=headers
        ) as http:
            while not stop.is_set():
                if not attacking.is_set():
                    attacking.wait()
                    stop.wait(random.uniform(0, SPREAD))
                    continue
                retry = send(http)
                if retry is not None:
                    stop.wait(float(retry))

    threads = [threading.Thread(target=attack, args=(n,), daemon=True) for n in range(count)]
    for t in threads:
        t.start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "go":
            attacking.set()
            print("going", flush=True)
        elif line.strip() == "pause":
            with quiet:
                attacking.clear()
                quiet.wait_for(lambda: in_flight == 0)
            print("paused", flush=True)
    stop.set()
    attacking.set()
    for t in threads:
        t.join(timeout=120)
    print(json.dumps(answers), flush=True)


if __name__ == "__main__":
    main()
