from __future__ import annotations

import boto3

from strands_deploy.aws.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_paces_to_the_quota_after_the_burst() -> None:
    t = FakeClock()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    delays = [pacer.pace("cloudwatch", "PutMetricAlarm") for _ in range(9)]
    assert delays[:3] == [0.0, 0.0, 0.0]  # the burst
    assert t.now == 2.0  # then 3 a second: 6 more calls take 2 s
    assert pacer.pace("lambda", "Invoke") == 0.0  # not rate-limited
    assert pacer.pace("s3", "PutObject") == 0.0


def test_lambda_reads_of_get_function_use_their_own_quota() -> None:
    t = FakeClock()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    for _ in range(20):
        pacer.pace("lambda", "CreateFunction")
    spent = t.now
    for _ in range(20):
        pacer.pace("lambda", "GetFunction")
    assert t.now == spent  # GetFunction has 100/s with its own burst


def test_attach_paces_every_call_of_a_real_client(moto: str) -> None:
    t = FakeClock()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    client = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    pacer.attach(client)
    for _ in range(5):
        client.describe_alarms()
    bucket = pacer.bucket("cloudwatch", "DescribeAlarms")
    assert bucket is not None and bucket.tokens == 0  # burst of 5 spent by the 5 calls
    client.describe_alarms()
    assert t.slept == [1 / 9]
