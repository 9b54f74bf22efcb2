"""Kafka topic names and their explicit creation (the broker never auto-creates)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

INTAKE_EVENTS = "intake.events"
DELIVERY_EVENTS = "delivery.events"
CARRIER_GATEWAY_EVENTS = "carrier_gateway.events"
CARRIER_GATEWAY_COMMANDS = "carrier_gateway.commands"
EVIDENCE_EVENTS = "evidence.events"
# Revoked token ids, read whole by every service: one partition, compacted (the key is the token id).
REVOCATIONS = "auth.revocations"

EVENT_TOPICS = (INTAKE_EVENTS, DELIVERY_EVENTS, CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS)
MAIN_TOPICS = (*EVENT_TOPICS, CARRIER_GATEWAY_COMMANDS)
PARTITIONS = 6


def dlq(topic: str) -> str:
    """Names the dead-letter topic for a topic."""
    return f"{topic}.dlq"


ALL_TOPICS = (*MAIN_TOPICS, *(dlq(t) for t in MAIN_TOPICS), REVOCATIONS)
# Topics whose shape differs from the event topics': partitions and broker-side settings.
_SHAPES: dict[str, tuple[int, dict[str, str]]] = {REVOCATIONS: (1, {"cleanup.policy": "compact"})}


@dataclass(frozen=True)
class TopicNames:
    """Maps logical topic names to physical ones under an optional prefix."""

    prefix: str = ""

    def physical(self, topic: str) -> str:
        """Returns the broker-side name of a logical topic."""
        return f"{self.prefix}{topic}"

    def logical(self, topic: str) -> str:
        """Returns the logical name of a broker-side topic."""
        return topic.removeprefix(self.prefix)


async def create_topics(bootstrap: str, *, prefix: str = "", partitions: int = PARTITIONS, timeout_s: float = 60) -> list[str]:
    """Creates every Songda topic that does not exist yet; returns the names it created."""
    names = TopicNames(prefix)
    wanted = [names.physical(t) for t in ALL_TOPICS]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="songda-topics")
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                try:
                    await admin.create_topics([_new_topic(names.logical(t), physical=t, partitions=partitions) for t in missing])
                except TopicAlreadyExistsError:
                    pass  # another process created them meanwhile; that is the outcome we want
            return missing
        except KafkaConnectionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
        finally:
            await admin.close()


def _new_topic(topic: str, *, physical: str, partitions: int) -> NewTopic:
    count, configs = _SHAPES.get(topic, (partitions, {}))
    return NewTopic(physical, num_partitions=count, replication_factor=1, topic_configs=configs)
