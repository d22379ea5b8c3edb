"""Request and response shapes of the admission gate: the policy body, Kubernetes'
``AdmissionReview``, Gatekeeper's ``ProviderRequest`` and the plain check."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from waybill.admission.types import (
    Decision,
    Entry,
    EnvironmentPolicy,
    Image,
    ImageDecision,
    Mode,
    Request,
    StoredDecision,
)
from waybill.core.clock import iso
from waybill.core.errors import BadRequest, FieldError, ValidationFailed
from waybill.http.body import field_error

POLICY_RESOURCE = "AdmissionPolicy"
CHECK_RESOURCE = "AdmissionCheck"

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class EnvironmentBody(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["audit", "enforce"] = "audit"
    require_provenance: bool = False
    repositories: list[Text] = []
    workflows: list[Text] = []
    refs: list[Text] = []
    max_open_alert_severity: Literal["low", "medium", "high", "critical"] | None = None
    only_alerts_with_patch: bool = False
    registries: list[Annotated[str, msgspec.Meta(min_length=1, max_length=256)]] = []
    exempt_images: list[Text] = []
    exempt_namespaces: list[Annotated[str, msgspec.Meta(min_length=1, max_length=253)]] = []


class PolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    environments: dict[str, Any]


def _environment(name: str, raw: Any) -> EnvironmentPolicy:
    if not 1 <= len(name) <= 128:
        raise ValidationFailed.one(
            POLICY_RESOURCE, "environments", "invalid", "environment names are 1 to 128 characters", name
        )
    try:
        body = msgspec.convert(raw, EnvironmentBody)
    except msgspec.ValidationError as exc:
        error = field_error(str(exc), POLICY_RESOURCE)
        field = f"environments.{name}.{error.field}" if error.field != "body" else f"environments.{name}"
        message = (error.message or "").replace(error.field, field, 1)
        raise ValidationFailed([FieldError(POLICY_RESOURCE, field, error.code, message)]) from None
    return environment_policy(body)


def environment_policy(body: EnvironmentBody) -> EnvironmentPolicy:
    return EnvironmentPolicy(
        mode=Mode(body.mode),
        require_provenance=body.require_provenance,
        repositories=tuple(body.repositories),
        workflows=tuple(body.workflows),
        refs=tuple(body.refs),
        max_open_alert_severity=body.max_open_alert_severity,
        only_alerts_with_patch=body.only_alerts_with_patch,
        registries=tuple(body.registries),
        exempt_images=tuple(body.exempt_images),
        exempt_namespaces=tuple(body.exempt_namespaces),
    )


def policies(body: PolicyBody) -> dict[str, EnvironmentPolicy]:
    return {name: _environment(name, raw) for name, raw in body.environments.items()}


def policy_document(environments: dict[str, EnvironmentPolicy]) -> dict[str, Any]:
    return {"environments": {name: value.as_json() for name, value in environments.items()}}


# Kubernetes: admission.k8s.io/v1 AdmissionReview.

REVIEW_VERSION = "admission.k8s.io/v1"
# Where each workload kind keeps its pod spec.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _malformed(reason: str) -> BadRequest:
    return BadRequest(f"Malformed AdmissionReview: {reason}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(f"{where} must be an object")
    return value


def _images(kind: str, obj: dict[str, Any]) -> tuple[Image, ...]:
    spec: Any = obj
    where = "request.object"
    for step in _POD_SPEC_PATHS[kind]:
        spec = _mapping(spec, where).get(step)
        where = f"{where}.{step}"
    spec = _mapping(spec, where)
    images: list[Image] = []
    for list_name in _CONTAINER_LISTS:
        containers = spec.get(list_name) or []
        if not isinstance(containers, list):
            raise _malformed(f"{where}.{list_name} must be a list")
        for i, container in enumerate(containers):
            container = _mapping(container, f"{where}.{list_name}[{i}]")
            image = container.get("image")
            if not isinstance(image, str) or not image:
                raise _malformed(f"{where}.{list_name}[{i}].image must be a non-empty string")
            name = container.get("name")
            images.append(Image(image, name if isinstance(name, str) else f"{list_name}[{i}]"))
    return tuple(images)


def review(raw: bytes, environment: str) -> tuple[str, Request]:
    """The review's uid and what it asks; 400 for anything that is not a v1 AdmissionReview request."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise _malformed("the body is not JSON") from None
    document = _mapping(document, "the body")
    if document.get("apiVersion") != REVIEW_VERSION or document.get("kind") != "AdmissionReview":
        raise _malformed(f"apiVersion must be {REVIEW_VERSION} and kind AdmissionReview")
    request = _mapping(document.get("request"), "request")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise _malformed("request.uid must be a non-empty string")
    kind = _mapping(request.get("kind"), "request.kind").get("kind")
    operation = request.get("operation")
    namespace = request.get("namespace")
    obj = request.get("object")
    images: tuple[Image, ...] = ()
    if isinstance(kind, str) and kind in _POD_SPEC_PATHS and obj is not None:
        images = _images(kind, _mapping(obj, "request.object"))
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = request.get("name") or (
        meta.get("name") or meta.get("generateName") if isinstance(meta, dict) else None
    )
    workload = f"{kind}/{name}" if isinstance(kind, str) and isinstance(name, str) and name else kind
    return uid, Request(
        environment=environment,
        images=images,
        entry=Entry.KUBERNETES,
        namespace=namespace if isinstance(namespace, str) and namespace else None,
        workload=workload if isinstance(workload, str) else None,
        operation=operation if isinstance(operation, str) else None,
        dry_run=request.get("dryRun") is True,
    )


def review_response(uid: str, decision: Decision) -> dict[str, Any]:
    reasons = decision.reasons
    if decision.allowed:
        status: dict[str, Any] = {
            "code": 200,
            "message": "; ".join(reasons) or "allowed by the admission policy",
        }
    else:
        status = {"code": 403, "reason": "Forbidden", "message": "; ".join(reasons)}
    response: dict[str, Any] = {"uid": uid, "allowed": decision.allowed, "status": status}
    if decision.warnings:
        response["warnings"] = list(decision.warnings)
    return {"apiVersion": REVIEW_VERSION, "kind": "AdmissionReview", "response": response}


# Gatekeeper: externaldata.gatekeeper.sh/v1beta1 ProviderRequest.

PROVIDER_VERSION = "externaldata.gatekeeper.sh/v1beta1"


class ProviderKeys(msgspec.Struct):
    keys: Annotated[list[Reference], msgspec.Meta(max_length=1024)]


class ProviderRequest(msgspec.Struct):
    request: ProviderKeys
    apiVersion: str = PROVIDER_VERSION
    kind: str = "ProviderRequest"


def provider_request(body: ProviderRequest, environment: str) -> Request:
    if body.apiVersion != PROVIDER_VERSION or body.kind != "ProviderRequest":
        raise BadRequest(f"apiVersion must be {PROVIDER_VERSION} and kind ProviderRequest")
    images = tuple(Image(key) for key in body.request.keys)
    return Request(environment=environment, images=images, entry=Entry.GATEKEEPER)


def provider_response(decision: Decision) -> dict[str, Any]:
    # Each item answers for its own image: Gatekeeper's policies ask about one key as often as many.
    items = [
        {
            "key": item.image.reference,
            "value": {"allowed": image_allowed(decision, item.passed), "reasons": _reasons(decision, item)},
            "error": "",
        }
        for item in decision.images
    ]
    return {
        "apiVersion": PROVIDER_VERSION,
        "kind": "ProviderResponse",
        "response": {"idempotent": True, "items": items},
    }


def image_allowed(decision: Decision, passed: bool) -> bool:
    """What the answer says of one image: audit mode (and no policy) allows what fails."""
    return passed or decision.mode is not Mode.ENFORCE


def _reasons(decision: Decision, item: ImageDecision) -> list[str]:
    return [*decision.notes, *item.reasons]


# The plain check.


class CheckBody(msgspec.Struct, forbid_unknown_fields=True):
    environment: Name
    images: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]], msgspec.Meta(max_length=256)
    ]


def check_request(body: CheckBody) -> Request:
    return Request(
        environment=body.environment, images=tuple(Image(i) for i in body.images), entry=Entry.CHECK
    )


def check_response(decision: Decision) -> dict[str, Any]:
    data: dict[str, Any] = {
        "allowed": decision.allowed,
        "mode": None if decision.mode is None else str(decision.mode),
        "images": [
            {
                "image": item.image.reference,
                "digest": item.digest,
                "allowed": image_allowed(decision, item.passed),
                "reasons": _reasons(decision, item),
            }
            for item in decision.images
        ],
    }
    if decision.warnings:
        data["warnings"] = list(decision.warnings)
    return data


def stored_decision(item: StoredDecision) -> dict[str, Any]:
    return {
        "id": item.id,
        "created_at": iso(item.created_at),
        "environment": item.environment,
        "entry": item.entry,
        "namespace": item.namespace,
        "workload": item.workload,
        "operation": item.operation,
        "mode": item.mode,
        "verdict": item.verdict,
        "allowed": item.allowed,
        "images": item.images,
        "reasons": item.reasons,
        "deployment": item.deployment,
    }
