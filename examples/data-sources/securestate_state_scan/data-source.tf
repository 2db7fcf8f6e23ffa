# Where are secrets held in plaintext in the states of this bucket? Only
# locations and rule names come back, never a value.
data "securestate_state_scan" "prod" {
  bucket = "acme-tfstate-111122223333"
  prefix = "prod/"
}

output "plaintext_secrets" {
  value = [
    for f in data.securestate_state_scan.prod.findings :
    "s3://acme-tfstate-111122223333/${f.object_key}: ${f.address}.${f.path} (${f.rule})"
  ]
}
