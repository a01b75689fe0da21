"""A laptop: Redis and MongoDB on localhost unless REDIS_URL / MONGO_URI say otherwise."""

from settings.base import *  # noqa: F403
