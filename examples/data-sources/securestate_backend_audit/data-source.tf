# Audit a backend made by hand, by cloudposse's tfstate-backend module or by
# terragrunt: it only reads, and works in any account the provider can read.
data "securestate_backend_audit" "legacy" {
  bucket     = "acme-terraform-state"
  lock_table = "acme-terraform-locks"
  # kms_key defaults to the key of the bucket's default encryption.
  access_policy_arns = {
    prod = "arn:aws:iam::111122223333:policy/terraform-state-prod"
  }
}

output "failed_controls" {
  value = {
    for name, c in data.securestate_backend_audit.legacy.controls :
    name => "${c.observed} (${join(", ", c.compliance)}): ${c.remediation}"
    if c.status == "fail"
  }
}

output "score" {
  value = data.securestate_backend_audit.legacy.score
}
