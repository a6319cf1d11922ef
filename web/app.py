"""The Litestar application factory: every plugin and middleware configured in one place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from clockevents.db import create_engine, create_session_factory
from clockevents.live.hub import LiveHub
from clockevents.live.keeper import AttendanceKeeper
from clockevents.notify.jobs import JobRunner
from clockevents.settings import Settings
from web import api, live, pages
from web.auth import AuthMiddleware, BearerAwareCSRFMiddleware
from web.collector import Collector
from web.deps import provide_db, provide_settings, provide_user
from web.errors import exception_handlers
from web.input_guard import reject_impossible_input
from web.live.channels import NamespacedRedisBackend, namespace_for
from web.live.fanout import BusSubscriber, Fanout
from web.live.handlers import SocketCount
from web.security import security_headers
from web.templating import configure_environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "web" / "templates"
STATIC = ROOT / "static"


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for ``settings`` (from the environment when not given)."""
    settings = settings or Settings.from_env()
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)

    jobs = JobRunner(settings, session_factory)  # reminders, request expiry, mail delivery

    # Live fan-out: in memory for one worker, through Redis when several share the event.
    backend = _channels_backend(settings)
    channels = ChannelsPlugin(
        backend=backend, arbitrary_channels_allowed=True, subscriber_class=BusSubscriber
    )

    redis = backend if isinstance(backend, NamespacedRedisBackend) else None
    # One worker: straight to this worker's sockets; several: also to the others, through Redis
    # (web.live.fanout).
    fanout = Fanout(channels, local=True) if redis is None else Fanout.over_redis(channels, redis)
    hub = LiveHub(
        session_factory,
        publish=fanout.publish,
        # With Redis a stored batch goes out as one message; in memory message by message, without waiting.
        publish_batch=fanout.publish_batch if redis is not None else None,
        durable_commit=settings.live_durable_commit,
    )
    collector = Collector()  # cycle collection that does not stall thousands of open sockets
    # Attendance left behind by a worker that died.
    keeper = AttendanceKeeper(hub, session_factory, timedelta(seconds=settings.live_heartbeat_seconds))

    async def start_jobs() -> None:
        jobs.start()
        await hub.start()
        collector.start()
        keeper.start()

    async def dispose_engine() -> None:
        await engine.dispose()

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
    )
    template_config = TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=configure_environment
    )
    api_router = Router(path="/api/v1", route_handlers=api.routes, tags=["api"])
    return Litestar(
        route_handlers=[
            api_router,
            *api.root_routes,
            *pages.routes,
            *live.routes,
            create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
        ],
        dependencies={
            "db": Provide(provide_db),
            "user": Provide(provide_user, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf),
            AuthMiddleware,
        ],
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "session_factory": session_factory,
                "live": hub,
                "fanout": fanout,
                "keeper": keeper,
                "live_sockets": SocketCount(),
            }
        ),
        plugins=[channels],
        template_config=template_config,
        openapi_config=OpenAPIConfig(
            title="clockevents API",
            version="1",
            path="/schema",
            create_examples=False,
        ),
        exception_handlers=exception_handlers,
        before_request=reject_impossible_input,
        # The largest legitimate body is a 2 MB CSV import; refuse bigger ones with 413 unread.
        request_max_body_size=4_000_000,
        after_request=security_headers,
        on_startup=[start_jobs],
        on_shutdown=[jobs.stop, keeper.stop, hub.stop, fanout.close, collector.stop, dispose_engine],
        debug=settings.debug,
    )


def _channels_backend(settings: Settings) -> ChannelsBackend:
    """A fresh backend per app: a Redis backend cannot be reused after shutdown."""
    if settings.redis_url:
        from redis.asyncio import Redis

        return NamespacedRedisBackend(
            redis=Redis.from_url(settings.redis_url), namespace=namespace_for(settings.database_url)
        )
    return MemoryChannelsBackend()


def app_from_env() -> Any:
    """Entry point for ``uvicorn --factory web.app:app_from_env``."""
    return create_app(Settings.from_env())
