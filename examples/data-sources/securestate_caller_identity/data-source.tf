data "securestate_caller_identity" "current" {}

output "backend_account" {
  value = "${data.securestate_caller_identity.current.account_id} (${data.securestate_caller_identity.current.region})"
}
