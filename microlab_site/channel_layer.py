"""channels_redis, riding out a Redis restart.

After Redis restarts, the layer's pooled connections are dead: the first command on each
fails ("Connection closed by server") and, unhandled, that ends the socket's consumer (a
handshake answered 500, or a live page that stops updating). Here a command that meets a
dead connection is tried again on a fresh one (redis-py drops the dead one), a receive
keeps waiting until Redis is back, and only then does an error reach the consumer.
"""

import asyncio
import logging

from channels_redis.core import RedisChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError)
COMMAND_PAUSES = (0.1, 0.5, 1.0, 2.0)  # then the error goes through
RECEIVE_PAUSE_MAX = 2.0


async def again_on_a_fresh_connection(command, *args):
    for pause in COMMAND_PAUSES:
        try:
            return await command(*args)
        except REDIS_DOWN as exc:
            log.warning("channel layer: %r, trying again", exc)
            await asyncio.sleep(pause)
    return await command(*args)


class RecoveringRedisChannelLayer(RedisChannelLayer):
    async def send(self, channel, message):
        return await again_on_a_fresh_connection(super().send, channel, message)

    async def group_add(self, group, channel):
        return await again_on_a_fresh_connection(super().group_add, group, channel)

    async def group_discard(self, group, channel):
        return await again_on_a_fresh_connection(super().group_discard, group, channel)

    async def group_send(self, group, message):
        return await again_on_a_fresh_connection(super().group_send, group, message)

    async def receive(self, channel):
        """Wait for the channel's next message, however long Redis is away."""
        pause = 0.1
        while True:
            try:
                return await super().receive(channel)
            except REDIS_DOWN as exc:
                log.warning("channel layer receive: %r, waiting for Redis", exc)
                await asyncio.sleep(pause)
                pause = min(RECEIVE_PAUSE_MAX, pause * 2)
