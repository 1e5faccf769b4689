package task

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestEveryFieldDocumented walks Spec's YAML keys and checks each appears,
// in backquotes (alone or as part of a dotted path), in the task-file
// documentation.
func TestEveryFieldDocumented(t *testing.T) {
	var docs strings.Builder
	for _, f := range []string{"task-file.md", "kafka.md", "formats/canal-json.md"} {
		b, err := os.ReadFile("../../docs/" + f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" || key == "-" || !f.IsExported() {
				continue
			}
			d := docs.String()
			if !strings.Contains(d, "`"+key+"`") && !strings.Contains(d, "."+key+"`") && !strings.Contains(d, "`"+key+".") {
				t.Errorf("%s%s is not documented in docs/", path, key)
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() != "github.com/opendts/opendts/internal/secret" {
				walk(f.Type, path+key+".")
			}
		}
	}
	walk(reflect.TypeOf(Spec{}), "")
}
