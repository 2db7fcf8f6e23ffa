# What a configuration deployed by ci-deploy in the dev account declares: the
# central backend's backend_hcl["dev"], copied as rendered (here with
# placeholder account and key). Terraform runs with ci-deploy's credentials;
# no provider or role of the central account is involved.
#
#   - the state lives under dev/ in the central bucket, encrypted with the
#     central key (named by ARN, so S3 never falls back to another key);
#   - dynamodb_table is the table's ARN, not its name: DynamoDB looks a bare
#     name up in the caller's own account, an ARN in the account it names;
#   - lock files (use_lockfile, Terraform 1.10 or later) are objects next to
#     the state and need nothing beyond the access block.
#
# The auditor of the read_only grant uses the same block and runs
# `terraform plan -lock=false`: it may read states and versions, never lock.
terraform {
  backend "s3" {
    bucket               = "acme-shared-tfstate-111111111111"
    key                  = "dev/terraform.tfstate"
    region               = "eu-central-1"
    encrypt              = true
    kms_key_id           = "arn:aws:kms:eu-central-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    dynamodb_table       = "arn:aws:dynamodb:eu-central-1:111111111111:table/acme-shared-tflock"
    use_lockfile         = true
    workspace_key_prefix = "dev/workspaces"
  }
}
