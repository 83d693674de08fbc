package dir

import (
	"regexp"
	"strconv"
	"testing"
)

var blockSizes = []int{1024, 4096}

func TestReadRealDirectories(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			img := fixture(t, bs)
			for _, c := range []struct {
				path    string
				indexed bool
			}{{"/bigdir", true}, {"/small", false}, {"/", false}, {"/a", false}} {
				o := openOnImage(t, img, c.path)
				if o.params.Indexed != c.indexed {
					t.Fatalf("%s: Index flag %v, want %v", c.path, o.params.Indexed, c.indexed)
				}
				d, err := Open(o.file, o.params)
				if err != nil {
					t.Fatalf("%s: Open: %v", c.path, err)
				}
				if d.Indexed() != c.indexed {
					t.Fatalf("%s: Indexed() = %v", c.path, d.Indexed())
				}
				got, err := d.Entries()
				if err != nil {
					t.Fatalf("%s: Entries: %v", c.path, err)
				}
				want := debugfsList(t, img, c.path)
				sameEntries(t, c.path, got, want)
				for i, w := range want {
					if i%97 != 0 {
						continue
					}
					e, ok, err := d.Lookup(w.Name)
					if err != nil || !ok || e != w {
						t.Fatalf("%s: Lookup(%q) = %+v %v %v, want %+v", c.path, w.Name, e, ok, err, w)
					}
				}
				if _, ok, err := d.Lookup("no-such-name"); ok || err != nil {
					t.Fatalf("%s: Lookup(missing) = %v %v", c.path, ok, err)
				}
			}
		})
	}
}

// htree_dump prints "ino 0xHASH-MINOR (rec_len) name" for every leaf entry.
var reDumpEntry = regexp.MustCompile(`(\d+) 0x([0-9a-f]{8})-([0-9a-f]{8}) \((\d+)\) (\S+)`)

func TestHashMatchesHtreeDump(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			img := fixture(t, bs)
			fi := readInfo(t, img)
			hv := fi.hashVer
			if fi.unsigned {
				hv += unsignedHashDistance
			}
			out := debugfs(t, img, false, "htree /bigdir")
			ms := reDumpEntry.FindAllStringSubmatch(out, -1)
			if len(ms) < bigCount {
				t.Fatalf("htree dump: %d entries, want >= %d", len(ms), bigCount)
			}
			for _, m := range ms {
				major, _ := strconv.ParseUint(m[2], 16, 32)
				minor, _ := strconv.ParseUint(m[3], 16, 32)
				h, err := NameHash(hv, fi.hashSeed, []byte(m[5]))
				if err != nil {
					t.Fatal(err)
				}
				if h.Major != uint32(major) || h.Minor != uint32(minor) {
					t.Fatalf("hash(%q) = %#x-%#x, debugfs %#x-%#x", m[5], h.Major, h.Minor, major, minor)
				}
			}
		})
	}
}
