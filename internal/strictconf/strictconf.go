// Package strictconf finds configuration keys that a component's Config does not
// declare.
//
// Why it exists: when a Config squashes a struct that implements confmap.Unmarshaler
// (confighttp.ServerConfig does, since collector v0.161.0), confmap decodes every other
// field with unused keys ignored, recursively, so a typo such as "warmup" instead of
// "warmup_timeout" is silently dropped. Components that squash such a struct call
// Check from their own Unmarshal to restore the usual "has invalid keys" error.
package strictconf // import "github.com/procode-ai/otelcol-procode/internal/strictconf"

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Check returns an error naming every key of conf, at any depth, that the
// mapstructure layout of cfg (a pointer to a struct) does not declare.
func Check(conf *confmap.Conf, cfg any) error {
	var unknown []string
	walk(conf.ToStringMap(), reflect.TypeOf(cfg), "", &unknown)
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("has invalid keys: %s", strings.Join(unknown, ", "))
}

func walk(m map[string]any, t reflect.Type, prefix string, unknown *[]string) {
	t = structType(t)
	if t == nil {
		return
	}
	fields := map[string]reflect.Type{}
	collect(t, fields)
	if len(fields) == 0 {
		return // not a plain config struct: leave it to its own decoder
	}
	for key, val := range m {
		ft, ok := fields[strings.ToLower(key)]
		if !ok {
			*unknown = append(*unknown, prefix+key)
			continue
		}
		sub, isMap := val.(map[string]any)
		if !isMap {
			continue
		}
		if ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String {
			// A map of sections (map[string]SomeConfig): check each entry.
			for name, entry := range sub {
				if es, ok := entry.(map[string]any); ok {
					walk(es, ft.Elem(), prefix+key+"::"+name+"::", unknown)
				}
			}
			continue
		}
		walk(sub, ft, prefix+key+"::", unknown)
	}
}

// collect adds the mapstructure keys of struct t to fields, following squashed fields.
func collect(t reflect.Type, fields map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("mapstructure")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "squash") {
			if st := structType(f.Type); st != nil {
				collect(st, fields)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[strings.ToLower(name)] = f.Type
	}
}

// structType returns the struct type behind t, looking through pointers and
// configoptional.Optional[T] (whose Get method returns *T); nil when t is no struct.
func structType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	if strings.HasPrefix(t.Name(), "Optional[") {
		if m, ok := reflect.PointerTo(t).MethodByName("Get"); ok && m.Type.NumOut() == 1 {
			return structType(m.Type.Out(0))
		}
	}
	return t
}

// Keys returns the top-level mapstructure keys that cfg (a struct or a pointer to one)
// declares, following squashed fields, sorted: the keys a configuration section of that
// type accepts.
func Keys(cfg any) []string {
	t := structType(reflect.TypeOf(cfg))
	if t == nil {
		return nil
	}
	fields := map[string]reflect.Type{}
	collect(t, fields)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
