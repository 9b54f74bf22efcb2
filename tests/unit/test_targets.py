"""Court webhook targets: which URLs and addresses may be called (server-side request forgery), and how a vetted target is connected to."""

from __future__ import annotations

import ipaddress

import pytest

from services.evidence.targets import Target, TargetPolicy, TargetRefused, networks, reachable_from_outside

STRICT = TargetPolicy(require_https=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("202.96.128.86", True),
        ("2400:3200::1", True),
        ("127.0.0.1", False),  # loopback
        ("127.8.9.10", False),
        ("::1", False),
        ("10.0.0.1", False),  # private (RFC 1918), e.g. a court network
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # link-local: the cloud metadata service
        ("100.100.100.200", False),  # shared address space: Alibaba Cloud's metadata service
        ("fd00:ec2::254", False),  # unique local: AWS's IPv6 metadata service
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast
        ("::ffff:127.0.0.1", False),  # loopback hidden in an IPv4-mapped IPv6 address
        ("::ffff:10.0.0.1", False),
        ("240.0.0.1", False),  # reserved
    ],
)
def test_only_public_addresses_are_reachable_from_outside(address: str, public: bool) -> None:
    assert reachable_from_outside(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://court.example/hook", "https://"),
        ("ftp://court.example/hook", "https://"),
        ("https://user:pw@court.example/hook", "credentials"),
        ("https:///hook", "no host"),
    ],
)
def test_the_shape_of_a_url_is_checked_first(url: str, words: str) -> None:
    with pytest.raises(TargetRefused, match=words):
        STRICT.check_shape(url)


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://10.20.30.40:8443/hook", "10.20.30.40"),
        ("https://[::1]/hook", "::1"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://localhost/hook", "127.0.0.1"),
    ],
)
async def test_internal_addresses_are_refused_after_resolution(url: str, refused: str) -> None:
    with pytest.raises(TargetRefused, match=f"resolves to {refused}"):
        await STRICT.vet(url)


async def test_an_unresolvable_name_is_refused() -> None:
    with pytest.raises(TargetRefused, match="cannot be resolved"):
        await STRICT.vet("https://no-such-host.invalid/hook")


async def test_the_operator_may_allow_a_network_and_nothing_else() -> None:
    court_network = TargetPolicy(require_https=True, allowed=networks(["10.20.0.0/16"]))
    target = await court_network.vet("https://10.20.30.40:8443/reports?x=1")
    assert target.address == ipaddress.ip_address("10.20.30.40")
    with pytest.raises(TargetRefused):
        await court_network.vet("https://10.21.0.1/reports")
    with pytest.raises(TargetRefused):
        await court_network.vet("https://127.0.0.1/reports")


async def test_development_takes_http() -> None:
    development = TargetPolicy(require_https=False, allowed=networks(["127.0.0.1/32"]))
    assert (await development.vet("http://127.0.0.1:9000/hook")).address == ipaddress.ip_address("127.0.0.1")


def test_a_vetted_target_is_connected_to_at_the_checked_address_with_its_own_name() -> None:
    # No second lookup at push time (DNS rebinding): the URL names the address, Host and TLS the name.
    target = Target(url="https://court.example:8443/reports?v=1", host="court.example", address=ipaddress.ip_address("203.0.113.7"))
    assert target.request() == ("https://203.0.113.7:8443/reports?v=1", {"Host": "court.example:8443"}, {"sni_hostname": "court.example"})
    six = Target(url="http://hooks.example/r", host="hooks.example", address=ipaddress.ip_address("2001:db8::5"))
    assert six.request() == ("http://[2001:db8::5]/r", {"Host": "hooks.example"}, {})
