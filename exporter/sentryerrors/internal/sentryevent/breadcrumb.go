package sentryevent

import (
	"encoding/json"
	"time"

	sentry "github.com/getsentry/sentry-go"
)

// Breadcrumb is one entry of an event's breadcrumbs. sentry-go's Breadcrumb keeps its
// data in a map of interface values: a map and a boxed value per field, several
// allocations for each span described. A span's Breadcrumb has at most a handful of
// data fields, held here inline; a span event's Breadcrumb carries its attributes.
type Breadcrumb struct {
	Type, Category, Message string
	Level                   sentry.Level
	Timestamp               time.Time
	Fields                  [MaxCrumbFields]CrumbField
	NFields                 int
	Attrs                   json.RawMessage // a span event's attributes, as a JSON object
}

// MaxCrumbFields is the most data fields a span's Breadcrumb gets (an LLM call with a
// failed status has seven).
const MaxCrumbFields = 8

// CrumbField is one data field of a Breadcrumb: text, or a number written the way
// encoding/json writes it (an integral one without a fraction when it is a count).
type CrumbField struct {
	Key  string
	Text string
	Num  float64
	Kind CrumbKind
}

type CrumbKind uint8

const (
	CrumbText  CrumbKind = iota
	CrumbCount           // jsonNumber: integral values as integers
	CrumbFloat
)

func (b *Breadcrumb) Put(f CrumbField) {
	if b.NFields < len(b.Fields) {
		b.Fields[b.NFields] = f
		b.NFields++
	}
}

func (b *Breadcrumb) HasData() bool { return b.NFields > 0 || len(b.Attrs) > 0 }
