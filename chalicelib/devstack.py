"""The local stack: ``make run`` (``python -m chalicelib.devstack``).

One process holds moto's server on loopback (in-memory AWS), the product's tables, queues and
schedule group, a dev tenant, the Chalice app on ``FLOWS_PORT``, a worker thread that feeds both
queues to the same handlers Lambda calls, and a scheduler thread that fires due EventBridge
Scheduler schedules (moto stores them but never fires them). SIGINT or SIGTERM stops it all.

Environment: FLOWS_PORT (default 8000), FLOWS_DEV_API_KEY and FLOWS_OPERATOR_KEY (random and
printed when unset), FLOWS_SQS_DELAY_LIMIT_S (default 900).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

POLL_IDLE_S = 0.05
LONG_POLL_S = 1
SCHEDULER_TICK_S = 1.0
STOP_DEADLINE_S = 3.0
# After a SIGTERM or SIGINT the process is gone by then, stopped or not (with the stacks of
# its threads printed if not): the e2e test once waited over 15 s for it under load.
LEAVE_DEADLINE_S = STOP_DEADLINE_S + 1.5


def _configure_environment() -> None:
    """Fake credentials and a region: everything talks to moto, never to AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "FLOWS_STAGE": "local",
    }.items():
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.setdefault("FLOWS_OPERATOR_KEY", "op_" + secrets.token_urlsafe(32))
    os.environ.setdefault("FLOWS_SIGNING_KEY", secrets.token_urlsafe(32))


def _loop(stop: threading.Event, name: str, tick: Callable[[], bool], idle_s: float) -> None:
    log = logging.getLogger("flows.devstack")
    while not stop.is_set():
        try:
            busy = tick()
        except Exception:
            log.exception("%s: tick failed", name)
            busy = False
        if not busy:
            stop.wait(idle_s)


def _seed_demo(tenant_id: str) -> None:
    """A few associates, contacts and a selection to try the API with."""
    from chalicelib.crm import models as m
    from chalicelib.crm.resources import ASSOCIATE, CONTACT, SELECTION
    from chalicelib.crm.service import CrmService

    crm = CrmService(tenant_id)
    owners = [
        crm.create(ASSOCIATE, m.AssociateFields(name=name, email=f"{name.lower()}@example.com"))
        for name in ("Anna", "Bjorn")
    ]
    newsletter = crm.create(SELECTION, m.NamedFields(name="Newsletter"))
    for index, (first, last) in enumerate(
        [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Edsger", "Dijkstra")]
    ):
        contact = crm.create(
            CONTACT,
            m.ContactFields(
                first_name=first,
                last_name=last,
                email=f"{first.lower()}@example.com",
                owner_id=owners[index % 2].id,  # type: ignore[attr-defined]
            ),
        )
        if index < 3:
            crm.add_member(SELECTION, newsletter.id, contact.id)  # type: ignore[attr-defined]


@dataclass
class Stack:
    """A running local stack: its url, the dev tenant and key, and how to stop it."""

    base_url: str
    moto_url: str
    tenant_id: str
    api_key: str
    stop_event: threading.Event
    threads: list[threading.Thread]
    server: Any
    moto: Any

    def stop(self) -> float:
        """Stop serving and working; the seconds it took."""
        started = time.monotonic()
        self.stop_event.set()
        self.server.server.shutdown()
        self.server.server.server_close()
        # The worker and scheduler poll the stop event at least once a second; being daemons,
        # a busy one cannot hold the process past the deadline.
        deadline = time.monotonic() + 3
        for thread in self.threads[1:]:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        # moto's server joins its own thread without a deadline: give it one.
        stopper = threading.Thread(target=self.moto.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=3)
        return time.monotonic() - started


def start(host: str, port: int, *, seed_demo: bool = False) -> Stack:
    """Start moto, create the resources and the dev tenant, and serve the app with a queue
    worker and a scheduler in threads (what ``make run`` runs; bench/latency.py too)."""
    _configure_environment()
    from moto.server import ThreadedMotoServer

    from chalicelib import moto_speedups
    from chalicelib.api import gateway

    # moto keeps no copies of what it hands out (moto_speedups.track_moto_models_weakly), and
    # its costs are DynamoDB's (a Query reads its partition, not the whole table sorted; a
    # transaction that cannot fail copies no table), with moto's answers: the stack stays as
    # fast at its thousandth event as at its first (bench/latency.py).
    moto_speedups.install()
    # chalice.local's gateway answers as the deployed one does (problem+json, an unknown path
    # 404): chalicelib/api/gateway.py.
    gateway.install_local()

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_host, moto_port = moto.get_host_and_port()
    moto_url = f"http://{moto_host}:{moto_port}"
    os.environ["AWS_ENDPOINT_URL"] = moto_url
    os.environ.setdefault("FLOWS_PUBLIC_BASE_URL", f"http://{host}:{port}")

    # Only now may the product be imported: its settings and clients read the environment.
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer

    import app as app_module
    from chalicelib.clock import utc_now
    from chalicelib.engine.local_runtime import fire_due_schedules, pump_once
    from chalicelib.store.resources import create_resources
    from chalicelib.tenants.models import TenantCreate
    from chalicelib.tenants.sender_domains import SenderDomainCreate
    from chalicelib.tenants.sender_domains import add as add_sender_domain
    from chalicelib.tenants.service import create_tenant

    create_resources()
    dev = create_tenant(
        TenantCreate(name="Dev tenant"), api_key=os.environ.get("FLOWS_DEV_API_KEY") or None
    )
    # So a newcomer's first email flow works: moto verifies an identity at once.
    add_sender_domain(dev.tenant_id, SenderDomainCreate(domain="example.com"))
    if seed_demo:
        _seed_demo(dev.tenant_id)

    class RequestHandler(ChaliceRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # The request log names paths only: a query may hold an email address (?email=).
            path = str(getattr(self, "path", "")).split("?", 1)[0]
            self.log_message('"%s %s" %s', getattr(self, "command", ""), path, str(code))

    config = Config.create(chalice_stage="dev", app_name="flows")
    try:
        # (chalice wraps its handler class in a partial: a subclass is the way to change it)
        server = LocalDevServer(app_module.app, config, host, port, handler_cls=RequestHandler)
    except OSError:
        moto.stop()
        raise

    stop = threading.Event()
    handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {
        "steps": app_module.step_worker,
        "control": app_module.control_worker,
    }

    def work() -> bool:
        if sum(pump_once(queue, handler) for queue, handler in handlers.items()):
            return True
        # Idle: wait on the steps queue (SQS long polling, as Lambda's poller does), so a
        # step message is picked up as it arrives instead of after a sleep.
        return pump_once("steps", handlers["steps"], wait_s=LONG_POLL_S) > 0

    def schedule() -> bool:
        fire_due_schedules(utc_now())
        return False

    threads = [
        threading.Thread(target=server.server.serve_forever, name="http", daemon=True),
        threading.Thread(target=_loop, args=(stop, "worker", work, POLL_IDLE_S), daemon=True),
        threading.Thread(
            target=_loop, args=(stop, "scheduler", schedule, SCHEDULER_TICK_S), daemon=True
        ),
    ]
    for thread in threads:
        thread.start()
    return Stack(
        base_url=f"http://{host}:{port}",
        moto_url=moto_url,
        tenant_id=dev.tenant_id,
        api_key=dev.api_key,
        stop_event=stop,
        threads=threads,
        server=server,
        moto=moto,
    )


def shut_down(stack: Any, deadline_s: float = STOP_DEADLINE_S) -> bool:
    """Stop the stack, but wait for it no longer than ``deadline_s``: chalice's server closes by
    joining its request threads, with no deadline, and one still reading from a client (or a
    machine too busy to schedule it) held ``make run`` past a SIGTERM for over 15 s. Returns
    whether it stopped in time; the caller leaves the process either way."""
    stopped: list[float] = []
    stopper = threading.Thread(target=lambda: stopped.append(stack.stop()), daemon=True)
    stopper.start()
    stopper.join(timeout=deadline_s)
    if stopped:
        print(f"stopped in {stopped[0]:.1f}s", flush=True)
        return True
    print(f"not stopped within {deadline_s:.0f}s; leaving anyway", flush=True)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Flows locally on moto.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("FLOWS_PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed-demo", action="store_true", help="load a few demo objects")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        stack = start(args.host, args.port, seed_demo=args.seed_demo)
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Whatever holds the stop up, the process leaves LEAVE_DEADLINE_S after the signal:
        # faulthandler's own thread (no GIL needed) prints every thread's stack, then exits.
        faulthandler.dump_traceback_later(LEAVE_DEADLINE_S, exit=True)
        stack.stop_event.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # A process inherits its parent's blocked signals: started by one that blocks SIGTERM (the
    # test session does, once Playwright has run), the stack never heard it and outlived it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})

    base = stack.base_url
    print(
        "\n".join(
            [
                "Flows local stack",
                f"  API:           {base}   (OpenAPI at {base}/openapi.json)",
                f"  dev tenant:    {stack.tenant_id}",
                f"  dev API key:   {stack.api_key}",
                f"  operator key:  {os.environ['FLOWS_OPERATOR_KEY']}",
                f"  moto endpoint: {stack.moto_url}",
                f"Flows local stack ready on {base} (Ctrl-C stops it)",
            ]
        ),
        flush=True,
    )
    while not stack.stop_event.is_set():
        stack.stop_event.wait(0.5)
    shut_down(stack)
    # Nothing is left to save (moto keeps everything in memory): leave now rather than wait on
    # any request thread still open on moto's server.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
