package dir

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMoveDirectories renames /a/sub to /b/sub (linear dirs) and /bigdir to
// /b/bigdir (an htree whose ".." lives in the dx_root) with Remove, Add and
// SetParent, then fixes the parents' link counts; e2fsck must agree.
func TestMoveDirectories(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			img := copyImage(t, fixture(t, bs))
			move := func(from, name, to string) {
				src, dst := openOnImage(t, img, from), openOnImage(t, img, to)
				child := openOnImage(t, img, strings.TrimSuffix(from, "/")+"/"+name)
				ds, err := Open(src.file, src.params)
				if err != nil {
					t.Fatal(err)
				}
				dd, err := Open(dst.file, dst.params)
				if err != nil {
					t.Fatal(err)
				}
				dc, err := Open(child.file, child.params)
				if err != nil {
					t.Fatal(err)
				}
				e, ok, err := ds.Lookup(name)
				if err != nil || !ok || e.Inode != child.ino || e.Type != TypeDir {
					t.Fatalf("Lookup %s in %s: %+v %v %v", name, from, e, ok, err)
				}
				if err := ds.Remove(name); err != nil {
					t.Fatal(err)
				}
				if err := dd.Add(e); err != nil {
					t.Fatal(err)
				}
				if err := dc.SetParent(dst.ino); err != nil {
					t.Fatal(err)
				}
				addLinks(t, img, from, -1)
				addLinks(t, img, to, +1)
			}
			move("/a", "sub", "/b")
			move("/", "bigdir", "/b")
			fsckClean(t, img)
			got := debugfsList(t, img, "/b")
			if len(got) != 2 || got[0].Name != "bigdir" || got[1].Name != "sub" {
				t.Fatalf("/b lists %+v", got)
			}
			bino, _ := inodeOf(t, img, "/b")
			for _, p := range []string{"/b/sub", "/b/bigdir"} {
				out := debugfs(t, img, false, "ls -p "+p)
				re := regexp.MustCompile(`(?m)^/` + strconv.Itoa(int(bino)) + `/04[0-7]+/\d+/\d+/\.\./`)
				if !re.MatchString(out) {
					t.Fatalf("%s: \"..\" is not /b (inode %d):\n%.300s", p, bino, out)
				}
			}
		})
	}
}

// TestInitMatchesDebugfsMkdir checks that Init writes the very block
// debugfs mkdir writes.
func TestInitMatchesDebugfsMkdir(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			img := copyImage(t, fixture(t, bs))
			debugfs(t, img, true, "mkdir /newdir")
			o := openOnImage(t, img, "/newdir")
			if o.file.Blocks() != 1 {
				t.Fatalf("mkdir made %d blocks", o.file.Blocks())
			}
			want, err := o.file.ReadBlock(0)
			if err != nil {
				t.Fatal(err)
			}
			if err := o.file.WriteBlock(0, make([]byte, bs)); err != nil {
				t.Fatal(err)
			}
			if err := Init(o.file, o.params, o.ino, rootIno); err != nil {
				t.Fatal(err)
			}
			got, _ := o.file.ReadBlock(0)
			if string(got) != string(want) {
				t.Fatalf("Init block differs from debugfs mkdir's")
			}
			fsckClean(t, img)

			mem := &memFile{bs: bs}
			if err := Init(mem, o.params, o.ino, rootIno); err != nil {
				t.Fatal(err)
			}
			if len(mem.blocks) != 1 || string(mem.blocks[0]) != string(want) {
				t.Fatal("Init into an empty file differs")
			}
			d, err := Open(mem, o.params)
			if err != nil {
				t.Fatal(err)
			}
			if ents := mustEntries(t, d); len(ents) != 0 {
				t.Fatalf("new dir lists %+v", ents)
			}
			p := o.params
			p.Indexed = true
			if err := Init(mem, p, o.ino, rootIno); err == nil {
				t.Fatal("Init accepted Indexed")
			}
			mem.blocks = append(mem.blocks, make([]byte, bs))
			if err := Init(mem, o.params, o.ino, rootIno); err == nil {
				t.Fatal("Init accepted a two-block directory")
			}
		})
	}
}

const rootIno = 2

func TestNameValidation(t *testing.T) {
	t.Parallel()
	mem := &memFile{bs: 1024}
	p := Params{BlockSize: 1024, FileType: true}
	if err := Init(mem, p, 11, rootIno); err != nil {
		t.Fatal(err)
	}
	d, err := Open(mem, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a\x00b", strings.Repeat("x", 256)} {
		if err := d.Add(Entry{Name: bad, Inode: 12}); err == nil {
			t.Errorf("Add(%q) accepted", bad)
		}
		if err := d.Remove(bad); err == nil {
			t.Errorf("Remove(%q) accepted", bad)
		}
	}
	if err := d.Add(Entry{Name: strings.Repeat("x", 255), Inode: 12, Type: TypeRegular}); err != nil {
		t.Fatalf("255-byte name: %v", err)
	}
	if err := d.Add(Entry{Name: "zero", Inode: 0}); err == nil {
		t.Error("inode 0 accepted")
	}
	if err := d.Add(Entry{Name: "badtype", Inode: 12, Type: 9}); err == nil {
		t.Error("file type 9 accepted")
	}
	if err := d.Remove("missing"); err == nil || !strings.Contains(err.Error(), "no such entry") {
		t.Errorf("Remove(missing): %v", err)
	}
	if err := d.SetParent(77); err != nil {
		t.Fatal(err)
	}
	if got := mem.blocks[0][dotRecLen]; got != 77 {
		t.Fatalf(".. inode byte %d, want 77", got)
	}
}

// TestAddNoSpace: when the directory cannot grow, Add fails and leaves
// every block and the directory's shape as they were.
func TestAddNoSpace(t *testing.T) {
	t.Parallel()
	for _, dirIndex := range []bool{false, true} {
		mem := &memFile{bs: 1024, max: 1}
		p := Params{BlockSize: 1024, FileType: true, Csum: true, Seed: 99, HashVersion: HashHalfMD4, DirIndex: dirIndex}
		if err := Init(mem, p, 11, rootIno); err != nil {
			t.Fatal(err)
		}
		d, err := Open(mem, p)
		if err != nil {
			t.Fatal(err)
		}
		var lastErr error
		for i := 0; i < 1000 && lastErr == nil; i++ {
			lastErr = d.Add(Entry{Name: strings.Repeat("n", 40) + strconv.Itoa(i), Inode: 12, Type: TypeRegular})
		}
		if lastErr == nil || !strings.Contains(lastErr.Error(), "no space") {
			t.Fatalf("dirIndex %v: %v, want no space", dirIndex, lastErr)
		}
		if d.Indexed() || mem.Blocks() != 1 {
			t.Fatalf("dirIndex %v: indexed %v, %d blocks after a failed Add", dirIndex, d.Indexed(), mem.Blocks())
		}
		d2, err := Open(mem, p)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := mustEntries(t, d), mustEntries(t, d2); len(a) != len(b) || len(a) == 0 {
			t.Fatalf("dirIndex %v: %d entries cached, %d on disk", dirIndex, len(a), len(b))
		}
	}
}
