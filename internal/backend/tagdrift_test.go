package backend_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// taggedObject is one AWS object of a backend that carries tags, read and
// retagged directly in AWS, as someone working outside Terraform would.
type taggedObject struct {
	read func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error)
	// write turns the object's tags from have into want.
	write func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error
}

// retag turns have into want with a service's untag and tag calls.
func retag(have, want map[string]string, untag func([]string) error, tag func(map[string]string) error) error {
	var gone []string
	for k := range have {
		if _, ok := want[k]; !ok {
			gone = append(gone, k)
		}
	}
	if len(gone) > 0 {
		slices.Sort(gone)
		if err := untag(gone); err != nil {
			return err
		}
	}
	set := map[string]string{}
	for k, v := range want {
		if have[k] != v {
			set[k] = v
		}
	}
	if len(set) > 0 {
		return tag(set)
	}
	return nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func bucketTagged(bucket func(a backendAttrs) string) taggedObject {
	return taggedObject{
		read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
			out, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket(a))})
			if err != nil {
				return nil, err
			}
			m := map[string]string{}
			for _, t := range out.TagSet {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			return m, nil
		},
		write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, _, want map[string]string) error {
			var set []s3types.Tag
			for _, k := range sortedKeys(want) {
				set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(want[k])})
			}
			_, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bucket(a)), Tagging: &s3types.Tagging{TagSet: set}})
			return err
		},
	}
}

func alarmTagged(alarm func(name string) string) taggedObject {
	alarmARN := func(a backendAttrs) *string {
		return aws.String(arn.ARN{Partition: "aws", Service: "cloudwatch", Region: a.Region, AccountID: a.AccountID, Resource: "alarm:" + alarm(a.Name)}.String())
	}
	return taggedObject{
		read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
			out, err := c.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: alarmARN(a)})
			if err != nil {
				return nil, err
			}
			m := map[string]string{}
			for _, t := range out.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			return m, nil
		},
		write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
			return retag(have, want, func(keys []string) error {
				_, err := c.CloudWatch.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: alarmARN(a), TagKeys: keys})
				return err
			}, func(set map[string]string) error {
				var tags []cwtypes.Tag
				for _, k := range sortedKeys(set) {
					tags = append(tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(set[k])})
				}
				_, err := c.CloudWatch.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: alarmARN(a), Tags: tags})
				return err
			})
		},
	}
}

// taggedObjects are every tagged AWS object of the monitored backend with
// alarms, by component.
func taggedObjects() map[string]taggedObject {
	groupARN := func(a backendAttrs) *string {
		return aws.String(arn.ARN{Partition: "aws", Service: "logs", Region: a.Region, AccountID: a.AccountID, Resource: "log-group:" + naming.AlarmLogGroup(a.Name)}.String())
	}
	return map[string]taggedObject{
		"kms_key": {
			read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
				return acctest.KeyTags(ctx, c, a.KeyID)
			},
			write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
				return retag(have, want, func(keys []string) error {
					_, err := c.KMS.UntagResource(ctx, &kms.UntagResourceInput{KeyId: &a.KeyID, TagKeys: keys})
					return err
				}, func(set map[string]string) error {
					var tags []kmstypes.Tag
					for _, k := range sortedKeys(set) {
						tags = append(tags, kmstypes.Tag{TagKey: aws.String(k), TagValue: aws.String(set[k])})
					}
					_, err := c.KMS.TagResource(ctx, &kms.TagResourceInput{KeyId: &a.KeyID, Tags: tags})
					return err
				})
			},
		},
		"state_bucket": bucketTagged(func(a backendAttrs) string { return a.Bucket }),
		"log_bucket":   bucketTagged(func(a backendAttrs) string { return naming.LogBucket(a.Bucket) }),
		"lock_table": {
			read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
				return acctest.TableTags(ctx, c, a.TableARN)
			},
			write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
				return retag(have, want, func(keys []string) error {
					_, err := c.DynamoDB.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: &a.TableARN, TagKeys: keys})
					return err
				}, func(set map[string]string) error {
					var tags []ddbtypes.Tag
					for _, k := range sortedKeys(set) {
						tags = append(tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(set[k])})
					}
					_, err := c.DynamoDB.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: &a.TableARN, Tags: tags})
					return err
				})
			},
		},
		"access_policy": {
			read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
				return acctest.PolicyTags(ctx, c, a.PolicyARNs["default"])
			},
			write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
				policy := aws.String(a.PolicyARNs["default"])
				return retag(have, want, func(keys []string) error {
					_, err := c.IAM.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: policy, TagKeys: keys})
					return err
				}, func(set map[string]string) error {
					_, err := c.IAM.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: policy, Tags: iamTagList(set)})
					return err
				})
			},
		},
		"trail": {
			read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
				out, err := c.CloudTrail.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{a.TrailARN}})
				if err != nil {
					return nil, err
				}
				m := map[string]string{}
				for _, rt := range out.ResourceTagList {
					for _, t := range rt.TagsList {
						m[aws.ToString(t.Key)] = aws.ToString(t.Value)
					}
				}
				return m, nil
			},
			write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
				return retag(have, want, func(keys []string) error {
					var tags []cttypes.Tag
					for _, k := range keys {
						tags = append(tags, cttypes.Tag{Key: aws.String(k)})
					}
					_, err := c.CloudTrail.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: &a.TrailARN, TagsList: tags})
					return err
				}, func(set map[string]string) error {
					var tags []cttypes.Tag
					for _, k := range sortedKeys(set) {
						tags = append(tags, cttypes.Tag{Key: aws.String(k), Value: aws.String(set[k])})
					}
					_, err := c.CloudTrail.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: &a.TrailARN, TagsList: tags})
					return err
				})
			},
		},
		"alarms_log_group": {
			read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
				out, err := c.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: groupARN(a)})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
				return retag(have, want, func(keys []string) error {
					_, err := c.Logs.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: groupARN(a), TagKeys: keys})
					return err
				}, func(set map[string]string) error {
					_, err := c.Logs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: groupARN(a), Tags: set})
					return err
				})
			},
		},
		"alarms_role": {
			read: func(ctx context.Context, c *awsclient.Client, a backendAttrs) (map[string]string, error) {
				out, err := c.IAM.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(naming.TrailLogsRole(a.Name))})
				if err != nil {
					return nil, err
				}
				m := map[string]string{}
				for _, t := range out.Tags {
					m[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				return m, nil
			},
			write: func(ctx context.Context, c *awsclient.Client, a backendAttrs, have, want map[string]string) error {
				role := aws.String(naming.TrailLogsRole(a.Name))
				return retag(have, want, func(keys []string) error {
					_, err := c.IAM.UntagRole(ctx, &iam.UntagRoleInput{RoleName: role, TagKeys: keys})
					return err
				}, func(set map[string]string) error {
					_, err := c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: role, Tags: iamTagList(set)})
					return err
				})
			},
		},
		"alarm_state_deleted": alarmTagged(naming.StateDeletedAlarm),
		"alarm_access_denied": alarmTagged(naming.AccessDeniedAlarm),
	}
}

func iamTagList(m map[string]string) []iamtypes.Tag {
	var tags []iamtypes.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

// expectTagsAll checks that the plan updates the backend in place from the
// tags_all read from AWS (before) to the configured tags (after), and
// changes no control: a tag is not a security control.
func expectTagsAll(before, after map[string]string) plancheck.PlanCheck {
	return tagsAllCheck{before, after}
}

type tagsAllCheck struct{ before, after map[string]string }

func (d tagsAllCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	asStrings := func(v any) map[string]string {
		out := map[string]string{}
		m, _ := v.(map[string]any)
		for k, v := range m {
			out[k], _ = v.(string)
		}
		return out
	}
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != resourceName {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		if b, a := asStrings(before["tags_all"]), asStrings(after["tags_all"]); !maps.Equal(b, d.before) || !maps.Equal(a, d.after) {
			resp.Error = fmt.Errorf("plan shows tags_all %v -> %v, want %v -> %v", b, a, d.before, d.after)
			return
		}
		if !reflect.DeepEqual(before["controls"], after["controls"]) {
			resp.Error = fmt.Errorf("a tag change plans a change of controls: %v -> %v", before["controls"], after["controls"])
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in plan", resourceName)
}

// On every tagged object of the monitored backend (key, both buckets, lock
// table, access policy, trail, and the alarms' log group, role and both
// alarms), a tag added, a tag removed and a tag changed out of band show in
// the plan as an in-place change of tags_all; apply leaves exactly the wanted
// tags on that object, and the next plan is empty.
func TestAccBackend_tagDriftEveryComponent(t *testing.T) {
	ctx := context.Background()
	for component, obj := range taggedObjects() {
		t.Run(component, func(t *testing.T) {
			name := acctest.RandomName("tagd")
			cfg := config(name, monitoredWithAlarms+`
  tags = {
    team = "platform"
    cost = "cc-1"
  }`)
			want := map[string]string{naming.OwnerTagKey: name, "team": "platform", "cost": "cc-1"}
			var got captured
			exactly := func(*terraform.State) error {
				have, err := obj.read(ctx, acctest.Client(t), got.backendAttrs)
				if err != nil {
					return fmt.Errorf("reading the %s's tags: %w", component, err)
				}
				if !maps.Equal(have, want) {
					return fmt.Errorf("%s tags = %v, want exactly %v", component, have, want)
				}
				return nil
			}
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				CheckDestroy:             checkMonitoringDestroyed(t, name),
				Steps: []resource.TestStep{
					{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(got.capture(), exactly)},
					{
						PreConfig: func() {
							c := acctest.Client(t)
							have, err := obj.read(ctx, c, got.backendAttrs)
							if err != nil {
								t.Fatalf("reading the %s's tags: %s", component, err)
							}
							drifted := maps.Clone(have)
							drifted["intruder"] = "added"    // added
							delete(drifted, "cost")          // removed
							drifted["team"] = "someone-else" // changed
							if err := obj.write(ctx, c, got.backendAttrs, have, drifted); err != nil {
								t.Fatalf("changing the %s's tags out of band: %s", component, err)
							}
						},
						Config: cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{
								plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
								expectTagsAll(map[string]string{"team": "someone-else", "intruder": "added"}, map[string]string{"team": "platform", "cost": "cc-1"}),
							},
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
						Check:             exactly,
					},
				},
			})
		})
	}
}
