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
"""
import argparse
import base64
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
