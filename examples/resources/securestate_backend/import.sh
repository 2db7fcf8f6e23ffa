# A backend this provider created, by its name:
terraform import securestate_backend.org acme-platform

# A backend made by other means (hand-written HCL, another module), by its parts;
# the next plan shows every control that apply will harden:
terraform import securestate_backend.legacy 'bucket=legacy-tfstate,table=legacy-locks,key=arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
