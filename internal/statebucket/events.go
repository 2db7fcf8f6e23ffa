package statebucket

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ControlEventNotifications names the control that the bucket sends its
// events to Amazon EventBridge: present when the spec wants it.
const ControlEventNotifications = "bucket_event_notifications"

// enableEventBridge turns on the delivery of the bucket's events to
// EventBridge. S3 keeps one notification configuration per bucket, replaced
// whole by each write, so the topic, queue and Lambda configurations someone
// else set are read first (readFirst) and written back unchanged; they were
// validated when they were set, so their destinations are not validated again
// (a destination gone since would otherwise fail this write). Turning
// EventBridge off again is left to whoever decides it is not wanted: other
// rules may use the same events.
func enableEventBridge(ctx context.Context, api API, bucket string, readFirst bool) error {
	cfg := &types.NotificationConfiguration{}
	if readFirst {
		cur, err := api.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &bucket})
		if err != nil {
			return fmt.Errorf("s3:GetBucketNotificationConfiguration %s: %w", bucket, err)
		}
		cfg.TopicConfigurations, cfg.QueueConfigurations, cfg.LambdaFunctionConfigurations =
			cur.TopicConfigurations, cur.QueueConfigurations, cur.LambdaFunctionConfigurations
	}
	cfg.EventBridgeConfiguration = &types.EventBridgeConfiguration{}
	if _, err := api.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &bucket,
		NotificationConfiguration: cfg, SkipDestinationValidation: aws.Bool(true)}); err != nil {
		return fmt.Errorf("s3:PutBucketNotificationConfiguration %s: %w", bucket, err)
	}
	return nil
}
