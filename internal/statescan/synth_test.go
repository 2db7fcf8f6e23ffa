package statescan

import (
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// synthState is an io.Reader producing a Terraform state of about target
// bytes on the fly, one resource at a time, so a test or benchmark can scan
// 100 MB without holding it. Most resources are benign and of realistic
// shape (instances, buckets, roles, security groups, objects); one in fifty
// holds secrets. expected counts the findings Scan must make.
type synthState struct {
	target   int64
	produced int64
	rng      *rand.Rand
	buf      []byte
	off      int
	i        int
	phase    int
	expected int
}

func newSynthState(target int64) *synthState {
	return &synthState{target: target, rng: rand.New(rand.NewPCG(1, 2))}
}

func (g *synthState) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		if !g.next() {
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

// next renders the next piece of the document into buf.
func (g *synthState) next() bool {
	g.buf, g.off = g.buf[:0], 0
	switch g.phase {
	case 0:
		g.buf = append(g.buf, `{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 42,
  "lineage": "0b6f1c1e-7d2a-4c55-9e8e-1f7c3a9b2d40",
  "outputs": {
    "bucket_arn": {"value": "arn:aws:s3:::synthetic-state-bucket", "type": "string"},
    "db_password": {"value": "synthetic-output-password", "type": "string", "sensitive": true}
  },
  "resources": [
`...)
		g.expected++ // output.db_password is sensitive
		g.phase = 1
	case 1:
		if g.produced >= g.target {
			g.buf = append(g.buf, "\n  ],\n  \"check_results\": null\n}\n"...)
			g.phase = 2
			break
		}
		if g.i > 0 {
			g.buf = append(g.buf, ",\n"...)
		}
		g.resource()
		g.i++
	default:
		return false
	}
	g.produced += int64(len(g.buf))
	return true
}

func (g *synthState) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *synthState) base32(n int) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(32)]
	}
	return string(b)
}

func (g *synthState) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (g *synthState) uuid() string {
	h := g.hex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// resource renders resource number g.i.
func (g *synthState) resource() {
	i := g.i
	switch {
	case i%50 == 49:
		g.secrets()
	case i%10 < 4:
		g.instance()
	case i%10 == 4:
		g.bucket()
	case i%10 == 5:
		g.role()
	case i%10 == 6:
		g.securityGroup()
	case i%10 == 7:
		g.object()
	default:
		g.database()
	}
}

const synthAccount = "123456789012"

func (g *synthState) instance() {
	id := "i-" + g.hex(17)
	g.buf = fmt.Appendf(g.buf, `    {
      "module": "module.app[%d]",
      "mode": "managed",
      "type": "aws_instance",
      "name": "web",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "index_key": %d,
          "schema_version": 1,
          "attributes": {
            "ami": "ami-%s",
            "arn": "arn:aws:ec2:eu-west-1:%s:instance/%s",
            "associate_public_ip_address": true,
            "availability_zone": "eu-west-1a",
            "capacity_reservation_specification": [{"capacity_reservation_preference": "open", "capacity_reservation_target": []}],
            "cpu_options": [{"amd_sev_snp": "", "core_count": 1, "threads_per_core": 2}],
            "credit_specification": [],
            "disable_api_stop": false,
            "disable_api_termination": false,
            "ebs_block_device": [],
            "ebs_optimized": true,
            "enclave_options": [{"enabled": false}],
            "ephemeral_block_device": [],
            "get_password_data": false,
            "host_id": "",
            "iam_instance_profile": "WebServerInstanceProfile",
            "id": "%s",
            "instance_state": "running",
            "instance_type": "t3.micro",
            "ipv6_addresses": [],
            "key_name": "deployer-key",
            "launch_template": [],
            "metadata_options": [{"http_endpoint": "enabled", "http_put_response_hop_limit": 1, "http_tokens": "required", "instance_metadata_tags": "disabled"}],
            "monitoring": false,
            "network_interface": [],
            "outpost_arn": "",
            "password_data": "",
            "primary_network_interface_id": "eni-%s",
            "private_dns": "ip-10-0-%d-%d.eu-west-1.compute.internal",
            "private_ip": "10.0.%d.%d",
            "public_dns": "ec2-54-1-%d-%d.eu-west-1.compute.amazonaws.com",
            "public_ip": "54.1.%d.%d",
            "root_block_device": [{"delete_on_termination": true, "device_name": "/dev/xvda", "encrypted": true, "iops": 3000, "kms_key_id": "arn:aws:kms:eu-west-1:%s:key/%s", "tags": {}, "throughput": 125, "volume_id": "vol-%s", "volume_size": 20, "volume_type": "gp3"}],
            "secondary_private_ips": [],
            "security_groups": [],
            "source_dest_check": true,
            "subnet_id": "subnet-%s",
            "tags": {"Environment": "production", "Name": "web-%d", "Owner": "platform-team", "CostCenter": "CC-1042"},
            "tags_all": {"Environment": "production", "Name": "web-%d", "Owner": "platform-team", "CostCenter": "CC-1042", "ManagedBy": "terraform"},
            "tenancy": "default",
            "timeouts": null,
            "user_data": "%s",
            "user_data_base64": null,
            "volume_tags": null,
            "vpc_security_group_ids": ["sg-%s", "sg-%s"]
          },
          "sensitive_attributes": [],
          "private": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMCwidXBkYXRlIjo2MDAwMDAwMDAwMDB9LCJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
          "dependencies": ["aws_security_group.web", "data.aws_ami.al2023"]
        }
      ]
    }`,
		g.i%7, g.i, g.hex(17), synthAccount, id, id, g.hex(17),
		g.i%250, g.i%200, g.i%250, g.i%200, g.i%250, g.i%200, g.i%250, g.i%200,
		synthAccount, g.uuid(), g.hex(17), g.hex(17), g.i, g.i, g.hex(40), g.hex(17), g.hex(17))
}

func (g *synthState) bucket() {
	name := "synthetic-data-" + strconv.Itoa(g.i)
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + name + `","arn:aws:s3:::` + name + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "aws_s3_bucket",
      "name": "data_%d",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "acceleration_status": "",
            "acl": null,
            "arn": "arn:aws:s3:::%s",
            "bucket": "%s",
            "bucket_domain_name": "%s.s3.amazonaws.com",
            "bucket_prefix": "",
            "bucket_regional_domain_name": "%s.s3.eu-west-1.amazonaws.com",
            "cors_rule": [],
            "force_destroy": false,
            "grant": [{"id": "%s", "permissions": ["FULL_CONTROL"], "type": "CanonicalUser", "uri": ""}],
            "hosted_zone_id": "Z1BKCTXD74EZPE",
            "id": "%s",
            "lifecycle_rule": [],
            "logging": [],
            "object_lock_configuration": [],
            "object_lock_enabled": false,
            "policy": %q,
            "region": "eu-west-1",
            "replication_configuration": [],
            "request_payer": "BucketOwner",
            "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": "arn:aws:kms:eu-west-1:%s:key/%s", "sse_algorithm": "aws:kms"}], "bucket_key_enabled": true}]}],
            "tags": {"DataClass": "internal", "Name": "%s"},
            "tags_all": {"DataClass": "internal", "Name": "%s", "ManagedBy": "terraform"},
            "timeouts": null,
            "versioning": [{"enabled": true, "mfa_delete": false}],
            "website": [],
            "website_domain": null,
            "website_endpoint": null
          },
          "sensitive_attributes": [],
          "private": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjoxMjAwMDAwMDAwMDAwfX0="
        }
      ]
    }`, g.i, name, name, name, name, g.hex(64), name, policy, synthAccount, g.uuid(), name, name)
}

func (g *synthState) role() {
	assume := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	name := fmt.Sprintf("WebServerRole%d", g.i)
	g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "aws_iam_role",
      "name": "role_%d",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "arn": "arn:aws:iam::%s:role/%s",
            "assume_role_policy": %q,
            "create_date": "2024-05-01T12:34:56Z",
            "description": "Role assumed by the web servers of the production fleet",
            "force_detach_policies": false,
            "id": "%s",
            "inline_policy": [],
            "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"],
            "max_session_duration": 3600,
            "name": "%s",
            "name_prefix": "",
            "path": "/service-role/",
            "permissions_boundary": "",
            "tags": {"Team": "platform"},
            "tags_all": {"Team": "platform"},
            "unique_id": "AROA%s"
          },
          "sensitive_attributes": []
        }
      ]
    }`, g.i, synthAccount, name, assume, name, name, strings.ToUpper(g.hex(17)))
}

func (g *synthState) securityGroup() {
	id := "sg-" + g.hex(17)
	g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "aws_security_group",
      "name": "web_%d",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "schema_version": 1,
          "attributes": {
            "arn": "arn:aws:ec2:eu-west-1:%s:security-group/%s",
            "description": "Allows HTTPS from the load balancer",
            "egress": [{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": false, "to_port": 0}],
            "id": "%s",
            "ingress": [{"cidr_blocks": [], "description": "HTTPS from the ALB", "from_port": 443, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_groups": ["sg-%s"], "self": false, "to_port": 443}],
            "name": "web-%d",
            "name_prefix": "",
            "owner_id": "%s",
            "revoke_rules_on_delete": false,
            "tags": {"Name": "web-%d"},
            "tags_all": {"Name": "web-%d"},
            "timeouts": null,
            "vpc_id": "vpc-%s"
          },
          "sensitive_attributes": [],
          "private": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6OTAwMDAwMDAwMDAwfSwic2NoZW1hX3ZlcnNpb24iOiIxIn0="
        }
      ]
    }`, g.i, synthAccount, id, id, g.hex(17), g.i, synthAccount, g.i, g.i, g.hex(17))
}

func (g *synthState) object() {
	key := fmt.Sprintf("releases/v1.%d.0/app-linux-amd64.tar.gz", g.i)
	g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "aws_s3_object",
      "name": "release",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "index_key": %q,
          "schema_version": 0,
          "attributes": {
            "acl": null,
            "arn": "arn:aws:s3:::synthetic-releases/%s",
            "bucket": "synthetic-releases",
            "bucket_key_enabled": false,
            "cache_control": "",
            "checksum_sha256": "%s",
            "content_type": "application/gzip",
            "etag": "%s",
            "id": "%s",
            "key": "%s",
            "kms_key_id": null,
            "metadata": {},
            "source": "dist/app-linux-amd64.tar.gz",
            "source_hash": "%s",
            "storage_class": "STANDARD",
            "tags": null,
            "version_id": "%s"
          },
          "sensitive_attributes": []
        }
      ]
    }`, key, key, base64.StdEncoding.EncodeToString([]byte(g.hex(16))), g.hex(32), key, key, g.hex(32), g.token(24))
}

func (g *synthState) database() {
	g.buf = fmt.Appendf(g.buf, `    {
      "module": "module.db",
      "mode": "managed",
      "type": "aws_db_instance",
      "name": "main_%d",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "schema_version": 2,
          "attributes": {
            "address": "main-%d.c%s.eu-west-1.rds.amazonaws.com",
            "allocated_storage": 20,
            "arn": "arn:aws:rds:eu-west-1:%s:db:main-%d",
            "backup_retention_period": 7,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "db_name": "app",
            "engine": "postgres",
            "engine_version": "16.3",
            "id": "db-%s",
            "identifier": "main-%d",
            "instance_class": "db.t4g.micro",
            "kms_key_id": "arn:aws:kms:eu-west-1:%s:key/%s",
            "manage_master_user_password": true,
            "master_user_secret": [{"kms_key_id": "arn:aws:kms:eu-west-1:%s:key/%s", "secret_arn": "arn:aws:secretsmanager:eu-west-1:%s:secret:rds!db-%s-AbCdEf", "secret_status": "active"}],
            "password": null,
            "port": 5432,
            "resource_id": "db-%s",
            "storage_encrypted": true,
            "tags": {},
            "username": "app_admin"
          },
          "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]
        }
      ]
    }`, g.i, g.i, g.hex(12), synthAccount, g.i, strings.ToUpper(g.hex(26)), g.i, synthAccount, g.uuid(), synthAccount, g.uuid(), synthAccount, g.uuid(), strings.ToUpper(g.hex(26)))
}

// secrets renders a resource holding secrets, and counts the findings.
func (g *synthState) secrets() {
	switch (g.i / 50) % 3 {
	case 0:
		// id: access key ID; secret: known attribute, secret key shape and
		// listed as sensitive; ses_smtp_password_v4: known and sensitive.
		g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "aws_iam_access_key",
      "name": "ci_%d",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "create_date": "2024-05-01T12:34:56Z",
            "encrypted_secret": null,
            "encrypted_ses_smtp_password_v4": null,
            "id": "AKIA%s",
            "key_fingerprint": null,
            "pgp_key": null,
            "secret": "%s",
            "ses_smtp_password_v4": "%s",
            "status": "Active",
            "user": "ci"
          },
          "sensitive_attributes": [[{"type": "get_attr", "value": "secret"}], [{"type": "get_attr", "value": "ses_smtp_password_v4"}]]
        }
      ]
    }`, g.i, g.base32(16), secretKeyLike(g), g.token(33))
		g.expected += 6
	case 1:
		// result: known (high entropy suppressed) and sensitive; bcrypt_hash:
		// known and sensitive.
		g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "random_password",
      "name": "db",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [
        {
          "index_key": "svc-%d",
          "schema_version": 3,
          "attributes": {
            "bcrypt_hash": "$2a$10$%s",
            "id": "none",
            "keepers": null,
            "length": 32,
            "lower": true,
            "min_lower": 0,
            "min_numeric": 0,
            "min_special": 0,
            "min_upper": 0,
            "number": true,
            "numeric": true,
            "override_special": null,
            "result": "%s",
            "special": false,
            "upper": true
          },
          "sensitive_attributes": [[{"type": "get_attr", "value": "bcrypt_hash"}], [{"type": "get_attr", "value": "result"}]]
        }
      ]
    }`, g.i, g.token(40), g.token(24))
		g.expected += 4
	default:
		// private_key_pem: known, private key block and sensitive;
		// public_key_pem: nothing.
		g.buf = fmt.Appendf(g.buf, `    {
      "mode": "managed",
      "type": "tls_private_key",
      "name": "deploy_%d",
      "provider": "provider[\"registry.terraform.io/hashicorp/tls\"]",
      "instances": [
        {
          "schema_version": 1,
          "attributes": {
            "algorithm": "RSA",
            "ecdsa_curve": "P224",
            "id": "%s",
            "private_key_openssh": "",
            "private_key_pem": "%s",
            "private_key_pem_pkcs8": null,
            "public_key_fingerprint_md5": "%s",
            "public_key_pem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA%s\n-----END PUBLIC KEY-----\n",
            "rsa_bits": 2048
          },
          "sensitive_attributes": [[{"type": "get_attr", "value": "private_key_openssh"}], [{"type": "get_attr", "value": "private_key_pem"}], [{"type": "get_attr", "value": "private_key_pem_pkcs8"}]]
        }
      ]
    }`, g.i, g.hex(40), pemBlock("RSA PRIVATE KEY", g.token(48)), g.hex(32), g.token(48))
		g.expected += 3
	}
}

// secretKeyLike returns a 40-character string of the shape of an AWS secret
// access key.
func secretKeyLike(g *synthState) string {
	for {
		s := base64.StdEncoding.EncodeToString([]byte(g.token(22)))[:40]
		if isSecretKeyShape(s) {
			return s
		}
	}
}

// pemBlock renders a PEM block with JSON-escaped newlines. The header is
// assembled here so no file of the repository holds a private key header.
func pemBlock(kind, body string) string {
	return "-----BEGIN " + kind + "-----\\n" + body + "\\n-----END " + kind + "-----\\n"
}

// synthSize returns the size of the synthetic state of target bytes.
func synthSize(target int64) int64 {
	n, err := io.Copy(io.Discard, newSynthState(target))
	if err != nil {
		panic(err)
	}
	return n
}

// heapSampler samples the bytes of live and not yet swept heap objects
// every millisecond until stopped, and keeps the largest.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		h.peak = max(h.peak, sample[0].Value.Uint64())
	}
	read()
	h.wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return h
}

// Stop stops sampling and returns the peak in MiB.
func (h *heapSampler) Stop() float64 {
	close(h.stop)
	h.wg.Wait()
	return float64(h.peak) / (1 << 20)
}
