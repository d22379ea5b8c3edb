"""The fast way through canonical package URLs gives exactly what ``packageurl`` gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from waybill.dependencies import purls

_TYPES = sorted(purls._FAST_TYPES | {"oci", "pub", "mlflow", "hackage", "cpan", "huggingface", "NPM"})
_PIECES = st.lists(
    st.sampled_from(
        ["a", "Z", "b_c", "0", ".", "-", "~", "%40", "%2B", "%2b", "%20", "%2F", "@", "+", "é", ":"]
    ),
    min_size=1,
    max_size=4,
).map("".join)


def _general(raw: str) -> purls.Package | None:
    try:
        parsed = PackageURL.from_string(raw)
    except ValueError:
        return None
    return purls.Package(
        parsed.to_string(), parsed.type, parsed.namespace or None, parsed.name, parsed.version or None
    )


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(_TYPES),
    st.lists(_PIECES, max_size=2),
    _PIECES,
    st.one_of(st.none(), _PIECES),
)
def test_the_fast_way_agrees_with_packageurl(
    type_: str, namespace: list[str], name: str, version: str | None
) -> None:
    raw = f"pkg:{type_}/" + "".join(f"{segment}/" for segment in namespace) + name
    if version is not None:
        raw += f"@{version}"
    fast = purls._canonical(raw)
    if fast is not None:
        assert fast == _general(raw)
        assert fast.purl == raw


def test_common_package_urls_take_the_fast_way() -> None:
    for raw in (
        "pkg:npm/%40scope/name@1.2.3",
        "pkg:pypi/requests@2.31.0",
        "pkg:maven/org.apache.commons/Commons-IO@1.3.4",
        "pkg:golang/github.com/foo/bar@v1.2.3%2Bincompatible",
    ):
        assert purls._canonical(raw) == _general(raw)


def test_other_package_urls_take_the_general_way() -> None:
    for raw in (
        "pkg:npm/@scope/name@1",
        "pkg:NPM/x@1",
        "pkg:pypi/Requests@1",
        "pkg:deb/debian/curl@1?arch=i386",
    ):
        assert purls._canonical(raw) is None
        assert purls.parse(raw) == _general(raw)
