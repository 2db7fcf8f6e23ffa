# Which versions does the prod state have, and which one should be restored?
data "securestate_state_versions" "prod" {
  bucket      = "acme-tfstate-111122223333"
  environment = "prod" # or key = "prod/terraform.tfstate"
}

output "prod_versions" {
  value = [
    for v in data.securestate_state_versions.prod.versions : join(" ", compact([
      v.last_modified, v.version_id, v.is_latest ? "(current)" : "",
      v.delete_marker ? "deleted" : v.serial == null ? "" : format("serial %d, %s resources, %s %s", v.serial,
        v.resource_count == null ? "?" : tostring(v.resource_count), v.cli == "" ? "CLI" : v.cli, coalesce(v.terraform_version, "?")),
      v.error,
    ]))
  ]
}

locals {
  # Versions that are readable states, newest first. After the current one
  # was corrupted (error set) or deleted (a delete marker on top), the first
  # is usually the one to restore; compare serial and resource_count when a
  # bad state was written by a CLI run and is readable.
  prod_restorable = [for v in data.securestate_state_versions.prod.versions : v if !v.delete_marker && v.error == ""]
}

output "prod_restore" {
  value = length(local.prod_restorable) == 0 ? null : {
    version_id = local.prod_restorable[0].version_id
    serial     = local.prod_restorable[0].serial
    md5        = local.prod_restorable[0].md5 # the lock table's digest once it is current
  }
}
