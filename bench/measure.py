"""What every benchmark measures with: latency figures, percentiles, and removing a run's topics."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient

from shared.topics import ALL_TOPICS, TopicNames


@dataclass
class Figures:
    """Throughput and latency of one measured path."""

    name: str
    count: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        """Throughput over the whole run."""
        return self.count / self.seconds


def percentile(values: list[float], q: float) -> float:
    """Returns the q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def figures(name: str, latencies: list[float], seconds: float) -> Figures:
    """Summarises per-request latencies (ms) over a run of `seconds`."""
    return Figures(name, len(latencies), seconds, percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99))


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Deletes the topics a benchmark created under its own prefix."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([TopicNames(prefix).physical(t) for t in ALL_TOPICS])
    finally:
        await admin.close()
