package datasets

// ForgetWithheldClasses makes the next publications build record-level
// releases as if k-anonymity had withheld no class, until restore is
// called.
func ForgetWithheldClasses() (restore func()) {
	testHookClasses = func(k *kClasses) { k.classes = nil }
	return func() { testHookClasses = nil }
}
