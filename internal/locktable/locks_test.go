package locktable

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// devLockInfo is the Info attribute Terraform 1.11 writes for an apply
// holding dev's state lock.
const devLockInfo = `{"ID":"6c5f3b2e-7a41-4d2b-9a4e-0d1c2b3a4f5e","Operation":"OperationTypeApply","Info":"",` +
	`"Who":"alice@ci-runner-7","Version":"1.11.4","Created":"2026-12-01T04:10:00.123456Z","Path":"acme-tfstate/dev/terraform.tfstate"}`

// A table holding only digest items holds no lock: it is deleted, after a
// consistent scan and before its deletion protection is lifted.
func TestDeleteWithOnlyDigests(t *testing.T) {
	f := newFake()
	tb := f.hardened(testSpec())
	tb.put("acme-tfstate/dev/terraform.tfstate-md5", "")
	tb.put("acme-tfstate/prod/terraform.tfstate-md5", "")
	if err := Delete(context.Background(), f, "acme-tflock"); err != nil {
		t.Fatal(err)
	}
	if f.table != nil {
		t.Error("table still exists")
	}
	if want := []string{"Scan", "UpdateTable", "DeleteTable"}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %v, want %v", f.calls, want)
	}
	if in := f.scans[0]; !aws.ToBool(in.ConsistentRead) {
		t.Error("Scan without ConsistentRead: a lock taken just before could be missed")
	}
}

// A lock item refuses the deletion, naming the state, the lock ID, the
// holder, the operation and when it was taken, and how to release it; the
// table keeps its deletion protection.
func TestDeleteRefusedWhileALockIsHeld(t *testing.T) {
	f := newFake()
	tb := f.hardened(testSpec())
	tb.put("acme-tfstate/dev/terraform.tfstate-md5", "")
	tb.put("acme-tfstate/dev/terraform.tfstate", devLockInfo)
	err := Delete(context.Background(), f, "acme-tflock")
	var held *HeldLocksError
	if !errors.As(err, &held) {
		t.Fatalf("Delete: %v, want a HeldLocksError", err)
	}
	want := Lock{Path: "acme-tfstate/dev/terraform.tfstate", ID: "6c5f3b2e-7a41-4d2b-9a4e-0d1c2b3a4f5e", Who: "alice@ci-runner-7",
		Operation: "OperationTypeApply", Created: "2026-12-01T04:10:00.123456Z", Version: "1.11.4"}
	if !slices.Equal(held.Locks, []Lock{want}) || held.Table != "acme-tflock" {
		t.Errorf("held %+v, want table acme-tflock and %+v", held, want)
	}
	for _, s := range []string{"acme-tflock", want.Path, want.ID, want.Who, want.Operation, want.Created,
		"terraform force-unlock <ID>", "tofu force-unlock <ID>", "dynamodb_table"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	if f.table == nil || !f.table.deletionProtection || len(f.updated) != 0 || f.count("DeleteTable") != 0 {
		t.Errorf("calls %v: want the table kept, still protected, and no write", f.calls)
	}
}

// Every page is read, consistently, each resuming after the last: a lock on
// the last page refuses, and every lock is named, sorted by state.
func TestHeldLocksPages(t *testing.T) {
	f := newFake()
	tb := f.hardened(testSpec())
	tb.put("acme-tfstate/prod/terraform.tfstate", strings.ReplaceAll(devLockInfo, "dev/", "prod/"))
	for _, env := range []string{"a", "b", "c", "d"} {
		tb.put("acme-tfstate/"+env+"/terraform.tfstate-md5", "")
	}
	tb.put("acme-tfstate/dev/terraform.tfstate", devLockInfo)
	tb.put("acme-tfstate/lost/terraform.tfstate", "not json")
	f.scanPage = 2
	locks, err := HeldLocks(context.Background(), f, "acme-tflock")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range locks {
		paths = append(paths, l.Path)
	}
	if want := []string{"acme-tfstate/dev/terraform.tfstate", "acme-tfstate/lost/terraform.tfstate", "acme-tfstate/prod/terraform.tfstate"}; !slices.Equal(paths, want) {
		t.Errorf("locks %v, want %v", paths, want)
	}
	if locks[1].ID != "" || !strings.Contains(locks[1].String(), "no readable lock information") {
		t.Errorf("lock without readable Info: %+v (%s), want named by its path alone", locks[1], locks[1])
	}
	if len(f.scans) != 4 {
		t.Fatalf("%d Scan pages, want 4 (7 items, 2 a page)", len(f.scans))
	}
	for i, in := range f.scans {
		if !aws.ToBool(in.ConsistentRead) || aws.ToString(in.TableName) != "acme-tflock" {
			t.Errorf("Scan %d: table %s, consistent %v; want acme-tflock, consistent", i, aws.ToString(in.TableName), in.ConsistentRead)
		}
		if (i == 0) != (in.ExclusiveStartKey == nil) {
			t.Errorf("Scan %d: ExclusiveStartKey %v, want it on every page but the first", i, in.ExclusiveStartKey)
		}
	}
	if start := stringAttr(f.scans[3].ExclusiveStartKey, HashKey); start != "acme-tfstate/dev/terraform.tfstate" {
		t.Errorf("last page starts after %s, want after the previous page's last item", start)
	}
}

// A failed scan refuses the deletion before anything is written; a table
// already gone holds no lock.
func TestDeleteScanErrors(t *testing.T) {
	f := newFake()
	f.hardened(testSpec())
	f.fail["Scan"] = []error{apiError("AccessDeniedException")}
	err := Delete(context.Background(), f, "acme-tflock")
	if err == nil || !strings.Contains(err.Error(), "dynamodb:Scan acme-tflock") || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("Delete: %v, want the Scan's error", err)
	}
	if f.table == nil || len(f.updated) != 0 {
		t.Errorf("calls %v, want no write after a failed scan", f.calls)
	}

	f = newFake()
	if err := CheckNoLocks(context.Background(), f, "acme-tflock"); err != nil {
		t.Errorf("CheckNoLocks of a missing table: %v, want nil", err)
	}
	if _, err := HeldLocks(context.Background(), f, "acme-tflock"); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("HeldLocks of a missing table: %v, want ResourceNotFoundException", err)
	}
}
