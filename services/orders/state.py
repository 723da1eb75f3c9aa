"""What the orders lifespan opens, as the routes see it: `app.state.orders` (services/orders/app.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool

from libs import health
from libs.messages import Keys
from libs.streams import StreamConsumer
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import Conn
from services.orders.storage.relay import OutboxRelay
from services.orders.storage.stores import StoreCache


@dataclass
class OrdersState:
    """What the lifespan opened, in the order it opened it; `tasks` run for the app's life."""

    settings: OrdersSettings
    keys: Keys
    pool: AsyncConnectionPool[Conn]
    redis: aioredis.Redis
    stores: StoreCache
    consumer: StreamConsumer
    relay: OutboxRelay
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    probes: health.Probes = field(default_factory=health.Probes)
