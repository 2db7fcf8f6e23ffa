package acctest

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// Object is an AWS object of a backend found in the emulator.
type Object struct {
	Kind string // bucket, table, policy, alias, key, trail, role, log group, alarm
	ID   string // its name, or ARN for policies, key ID for keys
	// Monitoring marks the trail and the alarm pipeline, whose identifiers
	// are derived from the name rather than kept in state.
	Monitoring bool
}

func (o Object) String() string { return o.Kind + " " + o.ID }

// BackendObjects lists every AWS object that exists for backend name, by its
// derived names and, for keys, by the ownership tag: the state and log
// buckets, the lock table, the access policies, the alias, every key tagged
// with the name and not pending deletion (a key the provider scheduled for
// deletion counts as cleaned up), the trail, the alarms' role, log group and
// alarms and the state events rule; in each of replicaRegions, the replica
// bucket, its alias and key. Every listing is paged through: the emulator is
// shared with other tests.
func BackendObjects(ctx context.Context, c *awsclient.Client, name string, replicaRegions ...string) ([]Object, error) {
	var found []Object
	add := func(kind, id string, monitoring bool) { found = append(found, Object{kind, id, monitoring}) }

	stateBucket := naming.StateBucket(name, c.AccountID)
	for _, b := range []string{stateBucket, naming.LogBucket(stateBucket)} {
		exists, err := statebucket.Exists(ctx, c.S3, b)
		if err != nil {
			return nil, err
		}
		if exists {
			add("bucket", b, false)
		}
	}
	tables := dynamodb.NewListTablesPaginator(c.DynamoDB, &dynamodb.ListTablesInput{})
	for tables.HasMorePages() {
		page, err := tables.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, tb := range page.TableNames {
			if tb == naming.LockTable(name) {
				add("table", tb, false)
			}
		}
	}
	pols := iam.NewListPoliciesPaginator(c.IAM, &iam.ListPoliciesInput{PathPrefix: aws.String(naming.PolicyPath), Scope: iamtypes.PolicyScopeTypeLocal})
	for pols.HasMorePages() {
		page, err := pols.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Policies {
			if strings.HasPrefix(aws.ToString(p.PolicyName), name+"-tfstate-") {
				add("policy", aws.ToString(p.Arn), false)
			}
		}
	}
	if err := keyObjects(ctx, c, name, add); err != nil {
		return nil, err
	}
	// The replica bucket and its key, in each replica region asked for.
	for _, region := range replicaRegions {
		rc := c.InRegion(region)
		replica := naming.ReplicaBucket(stateBucket)
		exists, err := statebucket.Exists(ctx, rc.S3, replica)
		if err != nil {
			return nil, err
		}
		if exists {
			add("bucket", replica, false)
		}
		if err := keyObjects(ctx, rc, name, add); err != nil {
			return nil, err
		}
	}
	rules, err := c.Events.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(name + "-tfstate-")})
	if err != nil {
		return nil, err
	}
	for _, r := range rules.Rules {
		add("events rule", aws.ToString(r.Name), true)
	}

	trails, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		return nil, err
	}
	for _, tr := range trails.TrailList {
		if aws.ToString(tr.Name) == naming.Trail(name) {
			add("trail", aws.ToString(tr.Name), true)
		}
	}
	roles := iam.NewListRolesPaginator(c.IAM, &iam.ListRolesInput{PathPrefix: aws.String(naming.PolicyPath)})
	for roles.HasMorePages() {
		page, err := roles.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Roles {
			if strings.HasPrefix(aws.ToString(r.RoleName), name+"-tfstate-") {
				add("role", aws.ToString(r.RoleName), true)
			}
		}
	}
	groups := cloudwatchlogs.NewDescribeLogGroupsPaginator(c.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/securestate/" + name + "/")})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.LogGroups {
			add("log group", aws.ToString(g.LogGroupName), true)
		}
	}
	alarms := cloudwatch.NewDescribeAlarmsPaginator(c.CloudWatch, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name + "-tfstate-")})
	for alarms.HasMorePages() {
		page, err := alarms.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.MetricAlarms {
			add("alarm", aws.ToString(a.AlarmName), true)
		}
	}
	return found, nil
}

// keyObjects adds the backend's aliases and keys (not pending deletion) in
// the client's region.
func keyObjects(ctx context.Context, c *awsclient.Client, name string, add func(kind, id string, monitoring bool)) error {
	aliases := kms.NewListAliasesPaginator(c.KMS, &kms.ListAliasesInput{})
	for aliases.HasMorePages() {
		page, err := aliases.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, a := range page.Aliases {
			alias := aws.ToString(a.AliasName)
			if alias == naming.ReplicaKeyAlias(name) {
				// Not in state by name (the key is, by ARN).
				add("alias", alias, true)
			}
			if alias == naming.KeyAlias(name) {
				add("alias", alias, false)
			}
			// An environment's OpenTofu encryption key alias: derived, not
			// kept in state, so checked once the backend is gone.
			if strings.HasPrefix(alias, "alias/"+name+"-tfstate-") && strings.HasSuffix(alias, "-tofu") {
				add("alias", alias, true)
			}
		}
	}
	keys := kms.NewListKeysPaginator(c.KMS, &kms.ListKeysInput{})
	for keys.HasMorePages() {
		page, err := keys.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, k := range page.Keys {
			d, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				return fmt.Errorf("describing key %s: %w", aws.ToString(k.KeyId), err)
			}
			if d.KeyMetadata.KeyState == kmstypes.KeyStatePendingDeletion {
				continue
			}
			tags, err := KeyTags(ctx, c, aws.ToString(k.KeyId))
			if err != nil {
				return fmt.Errorf("listing the tags of key %s: %w", aws.ToString(k.KeyId), err)
			}
			switch {
			case tags[naming.OwnerTagKey] != name:
			case tags[naming.KeyPurposeTagKey] != "":
				// Kept in state by ARN (tofu_encryption_key_arns).
				add("key", aws.ToString(d.KeyMetadata.Arn), false)
			default:
				add("key", aws.ToString(k.KeyId), false)
			}
		}
	}

	return nil
}
