"""The runner's failure policy, without a broker: a failed commit means a new producer."""

from __future__ import annotations

import quixstreams.internal_producer as quix_producer

from pipelines.runtime import application
from tessera.config import Settings


class FakeApp:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.ran = False

    def run(self) -> None:
        self.ran = True
        if self.fail:
            raise quix_producer.KafkaProducerTransactionCommitFailed("commit timed out")


def test_a_failed_transaction_commit_rebuilds_the_application(monkeypatch) -> None:
    built: list[FakeApp] = []

    def build(_settings: Settings, _role: str) -> FakeApp:
        built.append(FakeApp(fail=not built))  # the first app's commit fails
        return built[-1]

    monkeypatch.setattr(application, "build_application", build)
    monkeypatch.setattr(application, "wire", lambda *args: None)
    monkeypatch.setattr(application, "install_commit_policy", lambda *args: None)
    application.run_processor(Settings(), "saga", [], lambda *args: [])
    assert [app.ran for app in built] == [True, True]  # a second app (a new producer) ran


def test_a_timed_out_commit_is_not_retried_on_the_same_producer() -> None:
    # librdkafka lacks KIP-890: retrying the commit could let stale writes through.
    assert quix_producer._ABORT_RETRY_ATTEMPTS == 1  # noqa: SLF001
