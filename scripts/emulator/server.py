"""Runs moto as the acceptance-test emulator: HTTPS and plain HTTP on loopback.

Two listeners share one moto backend, so a test can make the same request with and
without TLS. Before serving, it replaces moto's IAM statement evaluation with one that
evaluates Condition blocks the way AWS does (moto 5.2 ignores most operators and treats
a statement whose condition does not match as an explicit Deny). Without this, a
bucket policy that denies `aws:SecureTransport = false` blocks every object request,
even over HTTPS, and the TLS-only control cannot be tested honestly.

Request facts used as condition keys come from the WSGI request being served:
aws:SecureTransport (the listener's scheme), s3:prefix / s3:delimiter / s3:max-keys
(query string), the S3 server-side encryption headers, and dynamodb:LeadingKeys
(the hash key of the item a DynamoDB request reads or writes). DynamoDB requests
are authorised against their table's ARN instead of moto's "*", and KMS requests
against the key's ARN (the KeyId given as key ID, key ARN, alias name or alias ARN,
or, for a Decrypt without KeyId, the key the ciphertext names), as AWS authorises
an identity policy's Resource; requests that name no key (CreateKey, ListKeys)
stay "*". (Key policies are not evaluated: moto applies only their Deny of
DescribeKey.)

The emulator does not evaluate organisation, VPC endpoint, principal-tag,
principal-ARN and MFA conditions: it cannot know aws:PrincipalOrgID,
aws:PrincipalOrgPaths, aws:SourceVpce, aws:PrincipalTag/<key>, aws:PrincipalArn,
aws:PrincipalIsAWSService, aws:MultiFactorAuthPresent or aws:MultiFactorAuthAge,
which AWS always knows. A statement whose Condition names one of them is not
applied at all (neither Allow nor Deny; one stderr line says so the first time it
is met). Evaluating them with the key absent would make every negated boundary
Deny hold and refuse every request; guessing values would be a home-made
evaluator. Such statements are proven by the rendered policy documents (unit
tests), not by the emulator.

DynamoDB TableName may be a table ARN, as on AWS. moto looks every table up in the
caller's own account, so a caller of another account naming a table by ARN would
get ResourceNotFoundException; here a TableName that is a table ARN of another
account is served from that account's DynamoDB (in the ARN's region), and the
request is authorised against that ARN, as AWS does. (Only the TableName parameter
and the ResourceArn of the tag and resource-policy calls are resolved this way; batch and
transaction calls keep moto's behaviour.)

It also adds CloudWatch Logs AssociateKmsKey / DisassociateKmsKey, which moto 5.2.5
lacks, so that re-encrypting a log group (drift repair) can be tested, and makes
DynamoDB UpdateTable apply an SSESpecification (moto 5.2.5 ignores it; AWS switches
the table to the key given, or to an AWS owned key with Enabled false), so that a
lock table's encryption can drift and be repaired in a test. The aws/dynamodb key that
moto makes for a table encrypted without a key named is reported with KeyManager AWS,
as AWS reports it (moto says CUSTOMER), so that an audit can tell it from a
customer-managed key.

S3, where moto 5.2.5 loses or bends what AWS keeps (each fix has a test in
internal/acctest/emulator_s3_test.go):
- GetBucketNotificationConfiguration returns the EventBridgeConfiguration that was
  put (moto stores it and drops it on read).
- GetBucketReplication reads back each rule as it was put: ID, Priority, Status,
  Filter (or the rule-level Prefix), DeleteMarkerReplication, SourceSelectionCriteria,
  ExistingObjectReplication and the whole Destination (account, storage class,
  AccessControlTranslation, EncryptionConfiguration, Metrics, ReplicationTime). moto
  drops SourceSelectionCriteria, reads DeleteMarkerReplication as Disabled and every
  Filter as an empty prefix. Nothing is replicated: no object is ever copied.
- Object Lock: PutObjectLockConfiguration is accepted on a bucket that holds objects
  (AWS allows switching Object Lock on for an existing versioned bucket, and changing
  or removing its default retention at any time; moto refuses with InvalidBucket
  unless the bucket is empty); versioning of a bucket with Object Lock cannot be
  suspended (InvalidBucketState, as on AWS; moto suspends it, after which a delete
  without a version ID drops every version, retained or not); an upload that Object
  Lock retains (the bucket's default retention, or lock headers) must carry
  Content-MD5, an x-amz-checksum-<algorithm> header, x-amz-sdk-checksum-algorithm or
  a checksum trailer, and is refused otherwise with AWS's InvalidRequest (moto
  accepts only Content-MD5 and x-amz-sdk-checksum-algorithm, under another code);
  GetObjectRetention is answered (moto does not route it and returns the object's
  body): the version's mode and retain-until date, NoSuchObjectLockConfiguration
  (404) for a version without retention, InvalidRequest for a bucket without Object
  Lock.
"""
import argparse
import base64
import datetime
import fnmatch
import ipaddress
import json
import os
import re
import sys
import threading
import urllib.parse

from werkzeug.serving import make_server

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.iam import access_control
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse
from moto.kms.utils import _deserialize_ciphertext_blob
from moto.utilities.utils import get_partition
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.responses import LogsResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.s3.exceptions import InvalidBucketState, ReplicationConfigurationNotFoundError, S3ClientError
from moto.s3.models import S3Backend
from moto.s3.responses import S3Response
from werkzeug.datastructures import Headers
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

_request = threading.local()

_HEADER_KEYS = {
    "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION": "s3:x-amz-server-side-encryption",
    "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "HTTP_X_AMZ_ACL": "s3:x-amz-acl",
}
_QUERY_KEYS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}


def request_context(environ):
    """The condition keys a request carries, lower-cased as AWS compares key names."""
    ctx = {"aws:securetransport": "true" if environ.get("wsgi.url_scheme") == "https" else "false"}
    for header, key in _HEADER_KEYS.items():
        if header in environ:
            ctx[key] = environ[header]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for name, key in _QUERY_KEYS.items():
        if name in query:
            ctx[key] = query[name][0]
    return ctx


class ContextMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        _request.context = request_context(environ)
        try:
            return self.app(environ, start_response)
        finally:
            _request.context = {}


# --- condition evaluation, after the IAM policy evaluation logic documentation ---------

def _as_list(value):
    return value if isinstance(value, list) else [value]


def _string_like(pattern, value):
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _number(v):
    return float(v)


def _ip_in(cidr, value):
    return ipaddress.ip_address(value) in ipaddress.ip_network(cidr, strict=False)


_POSITIVE = {
    "StringEquals": lambda e, a: a == e,
    "StringEqualsIgnoreCase": lambda e, a: a.lower() == e.lower(),
    "StringLike": lambda e, a: _string_like(e, a),
    "ArnEquals": lambda e, a: a == e,
    "ArnLike": lambda e, a: _string_like(e, a),
    "Bool": lambda e, a: a.lower() == str(e).lower(),
    "NumericEquals": lambda e, a: _number(a) == _number(e),
    "NumericLessThan": lambda e, a: _number(a) < _number(e),
    "NumericLessThanEquals": lambda e, a: _number(a) <= _number(e),
    "NumericGreaterThan": lambda e, a: _number(a) > _number(e),
    "NumericGreaterThanEquals": lambda e, a: _number(a) >= _number(e),
    "IpAddress": _ip_in,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "NotIpAddress": "IpAddress",
}


class UnsupportedCondition(Exception):
    pass


def condition_matches(operator, key, expected, context):
    """Whether one operator/key pair of a Condition block holds for the request context."""
    set_op = None
    if ":" in operator:
        set_op, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    expected = [str(e) if not isinstance(e, bool) else str(e).lower() for e in _as_list(expected)]
    actual = context.get(key.lower())

    if operator == "Null":
        want_absent = expected[0].lower() == "true"
        return (actual is None) == want_absent

    if actual is None:
        # AWS: an absent key does not match, so a negated operator holds, IfExists
        # holds, and ForAllValues holds vacuously (no value fails it).
        return if_exists or operator in _NEGATED or set_op == "ForAllValues"
    actual_values = _as_list(actual)

    negated = operator in _NEGATED
    test = _POSITIVE.get(_NEGATED.get(operator, operator))
    if test is None:
        raise UnsupportedCondition(operator)

    def one(value):
        hit = any(test(e, value) for e in expected)
        return not hit if negated else hit

    if set_op == "ForAllValues":
        return all(one(v) for v in actual_values)
    return any(one(v) for v in actual_values)


def conditions_hold(conditions, context):
    for operator, pairs in (conditions or {}).items():
        for key, expected in pairs.items():
            try:
                if not condition_matches(operator, key, expected, context):
                    return False
            except UnsupportedCondition as exc:
                # Keep moto's behaviour for operators we do not model, and say so.
                print(f"emulator: condition operator {exc} not evaluated; treated as matching",
                      file=sys.stderr, flush=True)
    return True


# Condition keys whose values only AWS knows (the caller's organisation and tags, the
# VPC endpoint a request came through, who the principal is, MFA). Lower-case; a
# key ending in "/" names a family (aws:PrincipalTag/<tag key>).
UNKNOWABLE_KEYS = (
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourcevpce",
    "aws:principaltag/",
    "aws:principalarn",
    "aws:principalisawsservice",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
)

_reported = set()
_reported_lock = threading.Lock()


def unknowable_keys(conditions):
    """The condition keys of a Condition block that the emulator cannot know."""
    found = []
    for pairs in (conditions or {}).values():
        for key in pairs:
            k = key.lower()
            if any(k.startswith(u) if u.endswith("/") else k == u for u in UNKNOWABLE_KEYS):
                found.append(key)
    return sorted(set(found))


def report_not_applied(statement, keys):
    """One stderr line per distinct statement the emulator leaves out."""
    text = json.dumps(statement, sort_keys=True)
    with _reported_lock:
        if text in _reported:
            return
        _reported.add(text)
    sid = statement.get("Sid") or "(no Sid)"
    print(f"emulator: {statement.get('Effect')} statement {sid} not applied: its condition names "
          f"{', '.join(keys)}, which the emulator does not evaluate (proven by the rendered documents)",
          file=sys.stderr, flush=True)


def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    """IAMPolicyStatement.is_action_permitted with AWS's order: action, principal, resource, condition."""
    st = self._statement
    if "NotAction" in st:
        concerned = not self._check_element_matches("NotAction", action)
    else:
        concerned = self._check_element_matches("Action", action)
    if not concerned:
        return PermissionResult.NEUTRAL
    if self.is_unknown_principal(st.get("Principal")):
        return PermissionResult.NEUTRAL
    if principal and not self._check_principal(principal):
        return PermissionResult.NEUTRAL
    if st.get("Resource") and not self._check_element_matches("Resource", resource):
        return PermissionResult.NEUTRAL
    if "NotResource" in st and self._check_element_matches("NotResource", resource):
        return PermissionResult.NEUTRAL
    keys = unknowable_keys(st.get("Condition"))
    if keys:
        # Not evaluated at all: see the module docstring.
        report_not_applied(st, keys)
        return PermissionResult.NEUTRAL
    context = dict(getattr(_request, "context", {}) or {})
    for k, v in (incoming_condition_values or {}).items():
        context[k.lower()] = v
    if not conditions_hold(st.get("Condition"), context):
        return PermissionResult.NEUTRAL
    return PermissionResult.PERMITTED if st.get("Effect") == "Allow" else PermissionResult.DENIED


_TABLE_ARN = re.compile(r"^arn:[a-z-]+:dynamodb:([a-z0-9-]+):(\d{12}):table/[A-Za-z0-9_.-]+$")


def _table_param(handler):
    """The table a request names: its TableName, or the ResourceArn of the calls
    that act on a table by ARN (tags, resource policy)."""
    body = handler.body if isinstance(handler.body, dict) else {}
    table = body.get("TableName") or body.get("ResourceArn")
    return table if isinstance(table, str) else None


def table_owner(handler):
    """(account, region) of a TableName (or ResourceArn) that is a table ARN of
    another account than the caller's, else None."""
    table = _table_param(handler)
    m = _TABLE_ARN.match(table) if table else None
    if m and m.group(2) != handler.current_account:
        return m.group(2), m.group(1)
    return None


def dynamodb_backend(self):
    """DynamoHandler.dynamodb_backend that, like AWS, resolves a table ARN of another
    account in that account (moto looks only in the caller's)."""
    owner = table_owner(self)
    if owner is not None:
        account, region = owner
        return dynamodb_backends[account][region]
    return dynamodb_backends[self.current_account][self.region]


def dynamodb_resource(self):
    """The table ARN a DynamoDB request acts on (moto authorises every DynamoDB
    call against "*", so resource-scoped identity policies could never allow
    anything), and the request's dynamodb:LeadingKeys condition values. A
    TableName given as an ARN is that ARN, whichever account it names."""
    table = _table_param(self)
    if not table:
        return "*"
    try:
        hash_key = self.dynamodb_backend.get_table(table).hash_key_attr
    except Exception:  # unknown table: authorise by name, let the call fail later
        hash_key = None
    item = self.body.get("Key") or self.body.get("Item") or {}
    if hash_key and hash_key in item:
        value = next(iter(item[hash_key].values()), None)
        if value is not None:
            context = getattr(_request, "context", None)
            if context is not None:
                context["dynamodb:leadingkeys"] = [str(value)]
    if _TABLE_ARN.match(table):
        return table
    return f"arn:{get_partition(self.region)}:dynamodb:{self.region}:{self.current_account}:table/{table}"


def kms_resource(self):
    """The key ARN a KMS request acts on (moto authorises every KMS call against
    "*", so an identity policy granting one key could never allow anything, and
    one granting another key could never refuse)."""
    try:
        body = json.loads(self.body or "{}")
    except ValueError:
        return "*"
    key = body.get("KeyId") or body.get("TargetKeyId")
    if not key and body.get("CiphertextBlob"):
        try:
            key = _deserialize_ciphertext_blob(base64.b64decode(body["CiphertextBlob"])).key_id
        except Exception:  # not a blob moto made: let the call fail on its own
            return "*"
    if not isinstance(key, str) or not key:
        return "*"
    try:
        return kms_backends[self.current_account][self.region].describe_key(key).arn
    except Exception:  # unknown key: authorise against "*", let the call fail later
        return "*"


def _log_group(response):
    group = response.logs_backend.groups.get(response._get_param("logGroupName"))
    if group is None:
        raise ResourceNotFoundException()
    return group


def associate_kms_key(self):
    _log_group(self).kms_key_id = self._get_param("kmsKeyId")
    return ""


def disassociate_kms_key(self):
    _log_group(self).kms_key_id = None
    return ""


def install_logs_key_association():
    LogsResponse.associate_kms_key = associate_kms_key
    LogsResponse.disassociate_kms_key = disassociate_kms_key


_moto_update_table = DynamoHandler.update_table


def update_table(self):
    """UpdateTable that also applies SSESpecification, as AWS does."""
    sse = self.body.get("SSESpecification") if isinstance(self.body, dict) else None
    if sse is not None:
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        if sse.get("Enabled") is False:
            table.sse_specification = None  # AWS owned key: no SSEDescription
        else:
            spec = dict(sse)
            if not spec.get("KMSMasterKeyId"):
                spec["KMSMasterKeyId"] = table._get_default_encryption_key(self.current_account, self.region)
            table.sse_specification = spec
    return _moto_update_table(self)


def install_table_encryption_update():
    DynamoHandler.update_table = update_table


_moto_default_table_key = Table._get_default_encryption_key


def default_table_key(self, account_id, region):
    """The aws/dynamodb key, managed by AWS as on AWS (moto makes it a customer key)."""
    key_id = _moto_default_table_key(self, account_id, region)
    from moto.kms import kms_backends
    kms_backends[account_id][region].describe_key(key_id).key_manager = "AWS"
    return key_id


def install_aws_managed_table_key():
    Table._get_default_encryption_key = default_table_key


# --- S3: what AWS keeps and moto loses (see the module docstring) ----------------------

def _notification_entry(item, arn_key):
    entry = {"Id": item.id, arn_key: item.arn, "Events": item.events}
    if item.filters:
        entry["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
    return entry


def get_bucket_notification(self):
    """GetBucketNotificationConfiguration with the EventBridgeConfiguration that was put."""
    config = self.backend.get_bucket_notification_configuration(self.bucket_name)
    self.data["Action"] = "GetBucketNotificationConfiguration"
    if not config:
        return self.serialized(EmptyResult())
    result = {
        "TopicConfigurations": [_notification_entry(t, "TopicArn") for t in config.topic],
        "QueueConfigurations": [_notification_entry(q, "QueueArn") for q in config.queue],
        "LambdaFunctionConfigurations": [_notification_entry(f, "LambdaFunctionArn") for f in config.cloud_function],
    }
    if config.event_bridge is not None:
        result["EventBridgeConfiguration"] = {}
    return self.serialized(ActionResult(result))


def _xml_value(value):
    """A PutBucketReplication body element as xmltodict parsed it, without its
    namespace attributes; an empty element is an empty string."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {k: _xml_value(v) for k, v in value.items() if not k.startswith("@")}
    if isinstance(value, list):
        return [_xml_value(v) for v in value]
    return value


def _as_list_of(value):
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def replication_rule(rule):
    """One replication rule as AWS reads it back: everything that was put."""
    rule = _xml_value(rule)
    out = {k: rule[k] for k in ("ID", "Priority", "Status", "Prefix", "DeleteMarkerReplication",
                                "SourceSelectionCriteria", "ExistingObjectReplication", "Destination") if k in rule}
    if "Filter" in rule:
        f = rule["Filter"] if isinstance(rule["Filter"], dict) else {}
        if "And" in f:
            f = dict(f)
            f["And"] = dict(f["And"]) if isinstance(f["And"], dict) else {}
            if "Tag" in f["And"]:
                f["And"]["Tags"] = _as_list_of(f["And"].pop("Tag"))
        out["Filter"] = f or {"Prefix": ""}
    return out


def get_bucket_replication(self):
    """GetBucketReplication that reads back what PutBucketReplication stored."""
    self.data["Action"] = "GetBucketReplication"
    replication = self.backend.get_bucket_replication(self.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    return self.serialized(ActionResult({"ReplicationConfiguration": {
        "Role": replication["Role"],
        "Rules": [replication_rule(r) for r in _as_list_of(replication["Rule"])],
    }}))


_moto_put_object_lock_configuration = S3Backend.put_object_lock_configuration


def put_object_lock_configuration(self, bucket_name, lock_enabled, mode=None, days=None, years=None):
    """PutObjectLockConfiguration that, like AWS, also takes a bucket holding objects."""
    bucket = self.get_bucket(bucket_name)
    if not bucket.is_versioned:
        return _moto_put_object_lock_configuration(self, bucket_name, lock_enabled, mode, days, years)
    if lock_enabled:
        bucket.object_lock_enabled = True
    bucket.default_lock_mode = mode
    bucket.default_lock_days = days
    bucket.default_lock_years = years


_moto_put_bucket_versioning = S3Backend.put_bucket_versioning


def put_bucket_versioning(self, bucket_name, status):
    """PutBucketVersioning that, like AWS, keeps a bucket with Object Lock versioned."""
    if self.get_bucket(bucket_name).object_lock_enabled and status != "Enabled":
        raise InvalidBucketState("An Object Lock configuration is present on this bucket, "
                                 "so the versioning state cannot be changed.")
    return _moto_put_bucket_versioning(self, bucket_name, status)


_CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


def upload_checksum(headers):
    """How an upload proves its integrity, as AWS accepts it for Object Lock:
    "md5", "sdk" (x-amz-sdk-checksum-algorithm), the algorithm of an
    x-amz-checksum-<algorithm> header or trailer, or None."""
    if headers.get("Content-MD5"):
        return "md5"
    if headers.get("x-amz-sdk-checksum-algorithm"):
        return "sdk"
    for alg in _CHECKSUM_ALGORITHMS:
        if headers.get(f"x-amz-checksum-{alg}"):
            return alg
    trailer = (headers.get("x-amz-trailer") or "").strip().lower()
    if trailer.startswith("x-amz-checksum-") and trailer[len("x-amz-checksum-"):] in _CHECKSUM_ALGORITHMS:
        return trailer[len("x-amz-checksum-"):]
    return None


class ObjectLockUploadWithoutChecksum(S3ClientError):
    def __init__(self):
        super().__init__("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object "
                                           "requests with Object Lock parameters")


_moto_key_response_put = S3Response._key_response_put


def key_response_put(self, query, key_name):
    """The object PUTs moto checks for Object Lock (every one but UploadPart), with
    AWS's rule for the integrity header and AWS's error."""
    if not (query.get("uploadId") and query.get("partNumber")):
        try:
            bucket = self.backend.get_bucket(self.bucket_name)
        except S3ClientError:
            bucket = None  # moto reports the missing bucket
        lock_headers = (self.headers.get("x-amz-object-lock-mode") or self.headers.get("x-amz-object-lock-retain-until-date")
                        or self.headers.get("x-amz-object-lock-legal-hold") == "ON")
        if bucket is not None and (lock_headers or (bucket.object_lock_enabled and bucket.has_default_lock)):
            proof = upload_checksum(self.headers)
            if proof is None:
                raise ObjectLockUploadWithoutChecksum()
            if proof not in ("md5", "sdk"):
                # moto looks for x-amz-sdk-checksum-algorithm only: name the algorithm
                # the request's own checksum header or trailer carries.
                headers = Headers(list(self.headers.items()))
                headers["x-amz-sdk-checksum-algorithm"] = proof.upper()
                self.headers = headers
    return _moto_key_response_put(self, query, key_name)


def _error(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>emulator</RequestId></Error>")
    return status, {"Content-Type": "application/xml"}, body


_moto_key_response_get = S3Response._key_response_get


def key_response_get(self, query, key_name):
    """Object GETs, with GetObjectRetention answered (moto serves the object instead)."""
    if "retention" not in query:
        return _moto_key_response_get(self, query, key_name)
    self.data["Action"] = "GetObjectRetention"
    self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
    bucket = self.backend.get_bucket(self.bucket_name)
    if not bucket.object_lock_enabled:
        return _error(400, "InvalidRequest", "Bucket is missing Object Lock Configuration")
    key, _ = self._get_key(validate_storage_class=False)
    if not key.lock_mode or not key.lock_until:
        return _error(404, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")
    until = key.lock_until
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            until = datetime.datetime.strptime(key.lock_until, fmt).replace(tzinfo=datetime.timezone.utc)
            break
        except ValueError:
            pass
    self.data["Action"] = "GetObjectRetention"
    return self.serialized(ActionResult({"Retention": {"Mode": key.lock_mode, "RetainUntilDate": until}}))


def install_s3_fidelity():
    S3Response.get_bucket_notification = get_bucket_notification
    S3Response.get_bucket_replication = get_bucket_replication
    S3Response._key_response_put = key_response_put
    S3Response._key_response_get = key_response_get
    S3Backend.put_object_lock_configuration = put_object_lock_configuration
    S3Backend.put_bucket_versioning = put_bucket_versioning


def install_condition_evaluation():
    IAMPolicyStatement.is_action_permitted = is_action_permitted
    access_control.IAMPolicyStatement = IAMPolicyStatement
    DynamoHandler._determine_resource = dynamodb_resource
    KmsResponse._determine_resource = kms_resource


def install_cross_account_tables():
    DynamoHandler.dynamodb_backend = property(dynamodb_backend)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="HTTPS port")
    parser.add_argument("--http-port", type=int, required=True, help="plain HTTP port")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args(argv)

    install_condition_evaluation()
    install_logs_key_association()
    install_table_encryption_update()
    install_aws_managed_table_key()
    install_cross_account_tables()
    install_s3_fidelity()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    wrapped = ContextMiddleware(app)

    servers = [
        make_server(args.host, args.port, wrapped, threaded=True,
                    request_handler=MotoRequestHandler, ssl_context=(args.cert, args.key)),
        make_server(args.host, args.http_port, wrapped, threaded=True,
                    request_handler=MotoRequestHandler),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    with open(args.ready_file, "w") as f:
        f.write(str(os.getpid()))
    try:
        threads[0].join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
