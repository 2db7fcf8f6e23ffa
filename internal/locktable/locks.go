package locktable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DigestSuffix ends the LockID of the items the S3 backend keeps a state's
// MD5 digest in (<bucket>/<key>-md5): they stay in the table between runs
// and are no lock.
const DigestSuffix = "-md5"

// Lock is a state lock held in the table: an item a Terraform or OpenTofu
// run wrote when it took the state's lock and removes when it releases it.
// The fields after Path come from the item's Info attribute, the CLI's
// LockInfo as JSON; they are empty when Info is missing or unreadable.
type Lock struct {
	Path      string // the item's LockID: <bucket>/<key> of the locked state
	ID        string // what `terraform force-unlock` / `tofu force-unlock` takes
	Who       string // user@host of the run
	Operation string // OperationTypeApply, OperationTypePlan, …
	Created   string // when the lock was taken, as the CLI wrote it (RFC 3339)
	Version   string // the CLI's version
}

// String names the lock in one line, for error messages.
func (l Lock) String() string {
	if l.ID == "" {
		return l.Path + " (no readable lock information)"
	}
	return fmt.Sprintf("%s: lock ID %s, held by %s, operation %s, since %s", l.Path, l.ID, orUnknown(l.Who), orUnknown(l.Operation), orUnknown(l.Created))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// lockInfo is the part of the CLIs' LockInfo (statemgr.LockInfo in both
// Terraform and OpenTofu) a held lock is named by.
type lockInfo struct {
	ID        string
	Operation string
	Who       string
	Version   string
	Created   string
}

// HeldLocks lists the state locks held in the table, sorted by path: every
// item but the digests, read with a consistent, paginated Scan (a lock
// taken just before the scan is seen). A missing table is an error wrapping
// Scan's ResourceNotFoundException.
func HeldLocks(ctx context.Context, api API, table string) ([]Lock, error) {
	in := &dynamodb.ScanInput{
		TableName:                &table,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#id, #info"),
		ExpressionAttributeNames: map[string]string{"#id": HashKey, "#info": "Info"},
	}
	var locks []Lock
	for p := dynamodb.NewScanPaginator(api, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamodb:Scan %s: %w", table, err)
		}
		for _, item := range page.Items {
			path := stringAttr(item, HashKey)
			if strings.HasSuffix(path, DigestSuffix) {
				continue
			}
			l := Lock{Path: path}
			var info lockInfo
			if json.Unmarshal([]byte(stringAttr(item, "Info")), &info) == nil {
				l.ID, l.Who, l.Operation, l.Created, l.Version = info.ID, info.Who, info.Operation, info.Created, info.Version
			}
			locks = append(locks, l)
		}
	}
	slices.SortFunc(locks, func(a, b Lock) int { return strings.Compare(a.Path, b.Path) })
	return locks, nil
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// HeldLocksError refuses to delete a table a run still holds a lock in:
// deleting it would let a second run on the same state, on a configuration
// still using the table, proceed beside the first.
type HeldLocksError struct {
	Table string
	Locks []Lock
}

func (e *HeldLocksError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DynamoDB table %s still holds %d state lock(s), so it is not deleted:", e.Table, len(e.Locks))
	for _, l := range e.Locks {
		b.WriteString("\n  - " + l.String())
	}
	b.WriteString("\nWait for the run holding it to finish; if that run is gone, release the lock with `terraform force-unlock <ID>` " +
		"(OpenTofu: `tofu force-unlock <ID>`) in a working directory still on the backend configuration the run used " +
		"(with `dynamodb_table`), then apply again.")
	return b.String()
}

// CheckNoLocks refuses, with a *HeldLocksError naming each lock, a table
// holding a state lock. A table already gone holds none.
func CheckNoLocks(ctx context.Context, api API, table string) error {
	locks, err := HeldLocks(ctx, api, table)
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return nil
	case err != nil:
		return err
	case len(locks) > 0:
		return &HeldLocksError{Table: table, Locks: locks}
	}
	return nil
}
