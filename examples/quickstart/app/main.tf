# Step 2 of the quick start: an ordinary configuration whose state lives in the
# bootstrapped backend. The empty backend block is filled at init:
#
#   terraform init -backend-config=dev.s3.tfbackend
#
# (`make demo` adds emulator.s3.tfbackend with the emulator's endpoints.)
terraform {
  backend "s3" {}
}

variable "greeting" {
  type    = string
  default = "hello from a hardened backend"
}

resource "terraform_data" "app" {
  input = var.greeting
}

output "greeting" {
  value = terraform_data.app.output
}
