package datasets

// ForgetWithheldClasses makes the next publications build record-level
// releases as if k-anonymity had withheld no class, until restore is
// called.
func ForgetWithheldClasses() (restore func()) {
	testHookClasses = func(k *kClasses) { k.classes = nil }
	return func() { testHookClasses = nil }
}

// FileWriter is the release file writer, for tests of its storage.
type FileWriter = fileWriter

// NewFileWriter starts a release file.
var NewFileWriter = newFileWriter

// Abort drops a file that will not be recorded.
func (f *fileWriter) Abort() { f.abort() }
